"""Phase ``runs``: schedules, backfills, cancel and retry at random, and the run lifecycle they must keep.

Time passes between steps: through the control plane's clock when the target has one,
by waiting (briefly, bounded) otherwise. After every step the suite reads every run and
backfill of its exports and checks:

* ``lifecycle.runs`` / ``lifecycle.backfills`` — each status sequence observed is a path in the
  lifecycle (:data:`~mockserver.contract.model.RUN_TRANSITIONS`); terminal states stay terminal;
* ``cancel.only-active`` — cancel succeeds only while ``Starting``/``Running``, and a cancelled
  run or backfill then reads ``Cancelled``, later too; otherwise 400;
* ``cancel.stops-runs`` — no run of a cancelled backfill completes after the cancel (on a
  target with a control plane, whose clock stands still between two reads);
* ``retry.leaves-run`` — retry answers with a backfill and leaves the retried run as it was;
* ``cursor.pages`` — walking ``next`` of runs and backfills gives no duplicates and no gaps,
  in the same order as one page, and a cursor page has no ``count``;
* ``pagination.links`` — those ``next`` links name the host that was asked;
* ``latest-runs`` — an export's ``latest_runs`` are its newest runs, newest first, at most 10;
* ``runs.filters`` — ``after``/``before`` list exactly the runs created between them;
* ``backfill.progress`` — a backfill's ``progress`` is ``finished_runs / total_runs``, between 0
  and 1; and a ``Completed`` backfill has no run still ``Starting``/``Running``
  (``lifecycle.backfills``);
* ``logs.order`` — an export's log lines come newest first;
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
#: How long after a successful cancel the suite looks again (control plane only): past the
#: time any run would otherwise have taken to finish.
_AFTER_CANCEL = 300
#: The runs list's default window: younger exports have every run inside it.
_RUNS_WINDOW = timedelta(days=6)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class RunsMachine(ContractMachine):
    PROPERTIES = (
        "lifecycle.runs",
        "lifecycle.backfills",
        "cancel.only-active",
        "cancel.stops-runs",
        "retry.leaves-run",
        "cursor.pages",
        "pagination.links",
        "latest-runs",
        "runs.filters",
        "backfill.progress",
        "logs.order",
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
        self.created_at = _parse(created["created_at"])
        self.run_history: dict[str, list[str]] = {}
        self.backfill_history: dict[str, list[str]] = {}
        self.backfills_made = 0
        self.seen_at: dict[str, dict[str, datetime]] = {}
        #: cancelled backfill → its runs that had already ended when it was cancelled.
        self.cancelled_backfills: dict[str, set[str]] = {}
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
        ended = {run_id for run_id, seen in self.run_history.items() if seen and seen[-1] not in ACTIVE}
        path = f"{self.base}/backfills/{backfill_id}/"
        if self._cancel("cancel.only-active", path, self.backfill_history[backfill_id]):
            self.cancelled_backfills[backfill_id] = ended

    @rule(first=st.integers(0, 10_000), span=st.integers(0, 10_000))
    def list_runs_between(self, first: int, span: int) -> None:
        """``after``/``before`` around some of the runs already seen: exactly those are listed.

        The bounds fall halfway between two runs' creation times, so whether a bound is
        inclusive does not matter."""
        runs = self._walk("runs")
        times = sorted({_parse(r["created_at"]) for r in runs})
        if not times:
            return
        i = first % len(times)
        j = min(len(times) - 1, i + span % 5)
        after = times[i] - ((times[i] - times[i - 1]) / 2 if i else timedelta(hours=1))
        before = times[j] + ((times[j + 1] - times[j]) / 2 if j + 1 < len(times) else timedelta(hours=1))
        params = {key: at.isoformat().replace("+00:00", "Z") for key, at in (("after", after), ("before", before))}
        listed: list[dict[str, Any]] = []
        body = self.expect("runs.filters", self.api.get(f"{self.base}/runs/", params=params), 200)
        for _ in range(_MAX_PAGES):
            listed += body["results"]
            if not body.get("next"):
                break
            body = self.expect("runs.filters", self.api.follow(body["next"]), 200)
        outside = [r["id"] for r in listed if not after <= _parse(r["created_at"]) <= before]
        self.check("runs.filters", not outside, f"only runs created between {params['after']} and {params['before']}",
                   outside[:5])  # fmt: skip
        shown = {r["id"] for r in listed}
        missing = [r["id"] for r in runs if after <= _parse(r["created_at"]) <= before and r["id"] not in shown]
        self.check("runs.filters", not missing, f"every run created between {params['after']} and {params['before']}",
                   missing[:5])  # fmt: skip

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

    def _cancel(self, prop: str, path: str, seen: list[str]) -> bool:
        """Cancel the run or backfill at ``path`` and check the answer; whether the cancel was accepted."""
        before = self.expect(prop, self.api.get(path), 200)["status"]
        response = self.api.post(path + "cancel/")
        after = self.expect(prop, self.api.get(path), 200)["status"]
        seen += [before, after]
        control = self.workspace.control
        if response.status == 200:
            self.check(prop, before in ACTIVE, f"cancel refused for a {before} object", f"200 {response.text}")
            # PostHog answers 200 even when the object ended between the suite's read and its
            # cancel (its cancel of the finished workflow fails quietly): on a target whose clock
            # moves, an ended object is no violation; one still active is.
            ended = control is None and after not in ACTIVE
            self.check(prop, after == "Cancelled" or ended, "Cancelled after a successful cancel", after)
            if control is not None:
                control.advance(_AFTER_CANCEL)
                later = self.expect(prop, self.api.get(path), 200)["status"]
                seen.append(later)
                self.check(prop, later == "Cancelled", f"still Cancelled {_AFTER_CANCEL} s after the cancel", later)
            return True
        else:
            self.expect(prop, response, 400)
            frozen = self.workspace.control is not None
            self.check(
                prop,
                not frozen or before not in ACTIVE,
                f"cancel accepted for a {before} object",
                f"{response.status} {response.text}",
            )
        return False

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
        self._backfills_agree_with_their_runs(backfills, runs)
        self._latest_runs_are_the_newest(runs)
        self._logs_newest_first()
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

    def _backfills_agree_with_their_runs(self, backfills: list[dict[str, Any]], runs: list[dict[str, Any]]) -> None:
        by_backfill: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            if run.get("backfill"):
                by_backfill.setdefault(run["backfill"], []).append(run)
        for backfill in backfills:
            progress = backfill.get("progress")
            if isinstance(progress, dict) and isinstance(progress.get("progress"), int | float):
                total, finished, share = progress.get("total_runs"), progress.get("finished_runs"), progress["progress"]
                self.check("backfill.progress", 0 <= share <= 1, "progress between 0 and 1", progress)
                if isinstance(total, int) and isinstance(finished, int) and total > 0:
                    self.check("backfill.progress", 0 <= finished <= total and abs(share - finished / total) <= 0.051,
                               "progress = finished_runs / total_runs (to one decimal)", progress)  # fmt: skip
            if backfill["status"] == "Completed":
                for run in by_backfill.get(backfill["id"], []):
                    if run["status"] in ACTIVE:  # read before the backfill: it may have ended since
                        status = self.expect("lifecycle.backfills", self.api.get(f"{self.base}/runs/{run['id']}/"),
                                             200)["status"]  # fmt: skip
                        self.check("lifecycle.backfills", status not in ACTIVE,
                                   f"no run still active in Completed backfill {backfill['id']}",
                                   f"run {run['id']}: {status}")  # fmt: skip
        if self.workspace.control is not None:
            for backfill_id, ended in self.cancelled_backfills.items():
                completed = [r["id"] for r in by_backfill.get(backfill_id, [])
                             if r["id"] not in ended and r["status"] == "Completed"]  # fmt: skip
                expected = f"no run of cancelled backfill {backfill_id} completing after the cancel"
                self.check("cancel.stops-runs", not completed, expected, completed)

    def _latest_runs_are_the_newest(self, runs: list[dict[str, Any]]) -> None:
        """``latest_runs``, read after the runs list (newest first), against that list's head.

        Runs created after the list was read (on a target whose clock moves) take the first
        places of ``latest_runs``; the others must be the list's newest, by creation time (runs
        created in the same instant may come in either order). Without a control plane, the
        runs of the last second before the list's newest are left out of the comparison: a
        worker stamps ``created_at`` before its insert commits, so two runs that close may
        reach the list in the other order."""
        control = self.workspace.control
        if control is not None and _parse(control.now()) - self.created_at > _RUNS_WINDOW:
            return  # older runs may be outside the list's seven days
        export = self.expect("latest-runs", self.api.get(self.base + "/"), 200)
        latest_at = [_parse(r["created_at"]) for r in export.get("latest_runs") or []]
        walked = [_parse(r["created_at"]) for r in runs]
        newer = [t for t in latest_at if t > walked[0]] if walked else latest_at
        expected = walked[: LATEST_RUNS - len(newer)]
        shown = latest_at[len(newer) :]
        if control is None and walked:
            settled = walked[0] - timedelta(seconds=1)
            shown, expected = [t for t in shown if t <= settled], [t for t in expected if t <= settled]
            if len(latest_at) == LATEST_RUNS:  # a late run there pushed an older one out
                expected = expected[: len(shown)]
        self.check("latest-runs", shown == expected, f"the newest {len(expected)} runs' times",
                   [t.isoformat() for t in latest_at])  # fmt: skip

    def _logs_newest_first(self) -> None:
        body = self.expect("logs.order", self.api.get(f"{self.base}/logs/"), 200)
        times = [_parse(line["timestamp"]) for line in body["results"]]
        self.check("logs.order", times == sorted(times, reverse=True), "log lines newest first",
                   [t.isoformat() for t in times[:10]])  # fmt: skip

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
            self.check_link("pagination.links", body["next"])
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
