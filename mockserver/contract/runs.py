"""Phase ``runs``: schedules, backfills, cancel and retry at random, and the run lifecycle they must keep.

Time passes between steps: through the control plane's clock when the target has one,
by waiting (briefly, bounded) otherwise. After every step the suite reads every run and
backfill of its exports and checks:

* ``lifecycle.runs`` / ``lifecycle.backfills`` — each status sequence observed is a path in the
  lifecycle (:data:`~mockserver.contract.model.RUN_TRANSITIONS`); terminal states stay terminal;
* ``cancel.only-active`` — cancel succeeds only while ``Starting``/``Running``, and a cancelled
  run or backfill then reads ``Cancelled``; otherwise 400;
* ``retry.leaves-run`` — retry answers with a backfill and leaves the retried run as it was;
* ``cursor.pages`` — walking ``next`` of runs and backfills gives no duplicates and no gaps,
  in the same order as one page, and a cursor page has no ``count``;
* ``latest-runs`` — an export's ``latest_runs`` are some of its runs, newest first, at most 10;
* ``error-body-shape`` and ``no-server-error`` on every answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from mockserver.contract import wallclock
from mockserver.contract.model import ACTIVE, BACKFILL_TRANSITIONS, RUN_TRANSITIONS, is_lifecycle_path
from mockserver.contract.stateful import ContractMachine

__all__ = ["RunsMachine"]

#: PostHog's ``latest_runs``: the ten newest.
LATEST_RUNS = 10
#: Bound on pages walked per check.
_MAX_PAGES = 20
#: Without a control plane, the longest a step waits for time to pass (seconds of wall time).
_MAX_WAIT = 2.0


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class RunsMachine(ContractMachine):
    PROPERTIES = (
        "lifecycle.runs",
        "lifecycle.backfills",
        "cancel.only-active",
        "retry.leaves-run",
        "cursor.pages",
        "latest-runs",
        "error-body-shape",
        "no-server-error",
        "response-shape",
    )

    @initialize(interval=st.sampled_from(["hour", "every 5 minutes"]))
    def create_export(self, interval: str) -> None:
        control = self.workspace.control
        if control is None:
            interval = "hour"  # five-minute schedules need a feature flag a real project may not have
        else:
            # Every example starts on the hour, so a replay meets the same schedule.
            now = _parse(control.now())
            into_hour = now.minute * 60 + now.second + now.microsecond / 1e6
            if into_hour:
                control.advance(3600 - into_hour)
        name = self.workspace.name()
        body = {"name": name, "interval": interval, "destination": {"type": "NoOp", "config": {}}}
        created = self.expect("create", self.api.post(f"{self.project}/batch_exports/", body), 201)
        self.export_id: str = created["id"]
        self.base = f"{self.project}/batch_exports/{self.export_id}"
        self.workspace.created(f"batch export {name}", self.base + "/", self.creds.api_key)
        self.created_at = _parse(created["created_at"])
        self.run_history: dict[str, list[str]] = {}
        self.backfill_history: dict[str, list[str]] = {}
        self.backfills_made = 0
        self.seen_at: dict[str, dict[str, datetime]] = {}
        if control is not None and interval == "every 5 minutes":
            control.advance(10 * 3600)  # 120 runs: more than one cursor page (100)

    def teardown(self) -> None:
        cleaner = self.workspace.client(self.creds.api_key)  # outside the history: not part of a reproduction
        if hasattr(self, "base") and cleaner.delete(self.base + "/").status in (204, 404):
            self.workspace.forget(self.base + "/")

    # -- rules -------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([20, 60, 600, 3600, 6 * 3600, 26 * 3600]))
    def elapse(self, seconds: int) -> None:
        if self.workspace.control is not None:
            self.workspace.control.advance(seconds)
        else:
            wallclock.wait(min(_MAX_WAIT, seconds / 3600))

    @precondition(lambda self: self.backfills_made < 3)
    @rule(hours_back=st.integers(1, 48), length=st.integers(1, 3))
    def backfill(self, hours_back: int, length: int) -> None:
        end = self.created_at.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_back)
        start = end - timedelta(hours=length)
        body = {"start_at": start.isoformat(), "end_at": end.isoformat()}
        created = self.expect("backfill.create", self.api.post(self.base + "/backfills/", body), 201)
        self.check("backfill.create", isinstance(created.get("backfill_id"), str), "a backfill_id", created)
        self.backfills_made += 1
        self.backfill_history.setdefault(created["backfill_id"], [])

    # Runs and backfills come from the target, not from the suite's own choices: they are
    # picked by a drawn index, so that hypothesis draws the same data on replay whatever
    # the target made meanwhile.

    @rule(index=st.integers(0, 10_000))
    def cancel_run(self, index: int) -> None:
        if not self.run_history:
            return
        run_id = sorted(self.run_history)[index % len(self.run_history)]
        self._cancel("cancel.only-active", f"{self.base}/runs/{run_id}/", self.run_history[run_id])

    @rule(index=st.integers(0, 10_000))
    def cancel_backfill(self, index: int) -> None:
        if not self.backfill_history:
            return
        backfill_id = sorted(self.backfill_history)[index % len(self.backfill_history)]
        self._cancel("cancel.only-active", f"{self.base}/backfills/{backfill_id}/", self.backfill_history[backfill_id])

    @precondition(lambda self: self.backfills_made < 3)
    @rule(index=st.integers(0, 10_000))
    def retry_run(self, index: int) -> None:
        self.backfills_made += (
            1  # counted whether or not a run exists yet: preconditions see only the suite's own steps
        )
        if not self.run_history:
            return
        run_id = sorted(self.run_history)[index % len(self.run_history)]
        before = self.expect("retry.leaves-run", self.api.get(f"{self.base}/runs/{run_id}/"), 200)
        answer = self.expect("retry.leaves-run", self.api.post(f"{self.base}/runs/{run_id}/retry/"), 200, 201)
        self.check("retry.leaves-run", isinstance(answer, dict) and "backfill_id" in answer, "a backfill_id", answer)
        after = self.expect("retry.leaves-run", self.api.get(f"{self.base}/runs/{run_id}/"), 200)
        if self.workspace.control is not None:
            self.check(
                "retry.leaves-run",
                after["status"] == before["status"],
                f"status {before['status']} kept",
                after["status"],
            )

    def _cancel(self, prop: str, path: str, seen: list[str]) -> None:
        before = self.expect(prop, self.api.get(path), 200)["status"]
        response = self.api.post(path + "cancel/")
        after = self.expect(prop, self.api.get(path), 200)["status"]
        seen += [before, after]
        if response.status == 200:
            self.check(prop, before in ACTIVE, f"cancel refused for a {before} object", f"200 {response.text}")
            self.check(prop, after == "Cancelled", "Cancelled after a successful cancel", after)
        else:
            self.expect(prop, response, 400)
            frozen = self.workspace.control is not None
            self.check(
                prop,
                not frozen or before not in ACTIVE,
                f"cancel accepted for a {before} object",
                f"{response.status} {response.text}",
            )

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def statuses_follow_the_lifecycle(self) -> None:
        if not hasattr(self, "base"):
            return
        # The export first, its runs after: on a target whose clock moves on its own (real
        # PostHog), a run created between the two reads is then in both, not in latest_runs alone.
        export = self.expect("latest-runs", self.api.get(self.base + "/"), 200)
        runs = self._walk("runs")
        for run in runs:
            history = self.run_history.setdefault(run["id"], [])
            history.append(run["status"])
            self.check(
                "lifecycle.runs",
                is_lifecycle_path(history, RUN_TRANSITIONS),
                "a path in the run lifecycle",
                f"run {run['id']}: {' → '.join(history)}",
            )
        backfills = self._walk("backfills")
        for backfill in backfills:
            history = self.backfill_history.setdefault(backfill["id"], [])
            history.append(backfill["status"])
            self.check(
                "lifecycle.backfills",
                is_lifecycle_path(history, BACKFILL_TRANSITIONS),
                "a path in the backfill lifecycle",
                f"backfill {backfill['id']}: {' → '.join(history)}",
            )
        latest = [r["id"] for r in export.get("latest_runs") or []]
        known = {r["id"] for r in runs}
        self.check("latest-runs", len(latest) <= LATEST_RUNS, f"at most {LATEST_RUNS}", len(latest))
        self.check(
            "latest-runs",
            set(latest) <= known | set(self.run_history),
            "only runs of the export",
            sorted(set(latest) - known),
        )
        created = [_parse(r["created_at"]) for r in export.get("latest_runs") or []]
        self.check(
            "latest-runs",
            created == sorted(created, reverse=True),
            "newest first",
            [r["created_at"] for r in export["latest_runs"]],
        )

    def _walk(self, kind: str) -> list[dict[str, Any]]:
        """Every item of a cursor-paginated list, checking the pages agree with each other."""
        items: list[dict[str, Any]] = []
        body = self.expect("cursor.pages", self.api.get(f"{self.base}/{kind}/"), 200)
        pages = 0
        while True:
            self.check("cursor.pages", "count" not in body, "a cursor page without count", sorted(body))
            items += body["results"]
            pages += 1
            if not body.get("next") or pages >= _MAX_PAGES:
                break
            body = self.expect("cursor.pages", self.api.follow(body["next"]), 200)
        ids = [i["id"] for i in items]
        self.check(
            "cursor.pages",
            len(ids) == len(set(ids)),
            "no item on two pages",
            sorted({i for i in ids if ids.count(i) > 1}),
        )
        if pages < _MAX_PAGES and items:
            # No gaps: whatever was listed before and is still inside the window is listed now.
            horizon = max(_parse(i["created_at"]) for i in items) - timedelta(days=6)
            seen_at = self.seen_at.setdefault(kind, {})
            missing = [i for i, at in seen_at.items() if at > horizon and i not in set(ids)]
            self.check("cursor.pages", not missing, "every item listed before still listed", missing[:5])
            seen_at.update({i["id"]: _parse(i["created_at"]) for i in items})
            order = [_parse(i["created_at"]) for i in items]
            self.check(
                "cursor.pages",
                order == sorted(order, reverse=True),
                "newest first across pages",
                [i["created_at"] for i in items][:20],
            )
        return items
