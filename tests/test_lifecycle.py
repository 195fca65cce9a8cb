"""Run lifecycles: the transition table, and a property test that drives the API at random.

The state machine creates exports, moves the virtual clock, cancels runs and plans
outcomes in any order, and checks after every step that each run only ever moved along
an edge of :data:`~mockserver.domain.lifecycle.RUN_TRANSITIONS`.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from support import Api

from mockserver import MockServer
from mockserver.domain.lifecycle import (
    ACTIVE,
    RUN_TRANSITIONS,
    TERMINAL_RUN_STATUSES,
    IllegalTransition,
    Outcome,
    transition,
)
from mockserver.domain.models import Run

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _run(status: str) -> Run:
    return Run("r", 1, status, None, NOW, NOW, NOW)


def reachable(start: str, end: str) -> bool:
    seen, frontier = {start}, [start]
    while frontier:
        for target in RUN_TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return end in seen


def test_every_run_ends_from_running_and_only_active_runs_cancel() -> None:
    assert RUN_TRANSITIONS["Starting"] == {"Running", "Cancelled"}
    assert "Cancelled" in RUN_TRANSITIONS["Running"]
    endings = {"Completed", "Failed", "FailedRetryable", "FailedBilling", "Terminated", "TimedOut", "ContinuedAsNew"}
    assert endings | {"Cancelled"} == TERMINAL_RUN_STATUSES


@pytest.mark.parametrize("status", sorted(TERMINAL_RUN_STATUSES))
def test_a_finished_run_never_changes_again(status: str) -> None:
    for target in (*ACTIVE, *TERMINAL_RUN_STATUSES):
        with pytest.raises(IllegalTransition):
            transition(_run(status), target, NOW)


def test_a_starting_run_cannot_complete_without_running() -> None:
    with pytest.raises(IllegalTransition, match="'Starting' to 'Completed'"):
        transition(_run("Starting"), "Completed", NOW)


def test_an_outcome_must_be_a_way_to_end() -> None:
    with pytest.raises(ValueError, match="not a way a run can end"):
        Outcome("Starting")


ENDINGS = ["Completed", "Failed", "FailedRetryable", "FailedBilling", "Terminated", "TimedOut", "ContinuedAsNew"]


class RunLifecycle(RuleBasedStateMachine):
    """Random walks through the API; every observed status change must follow the table."""

    @initialize()
    def fresh_fake(self) -> None:
        self.server = MockServer(strict=True)
        self.api = Api(self.server, self.server.store.create_tenant())
        self.exports: list[str] = []
        self.seen: dict[str, str] = {}

    @rule(interval=st.sampled_from(["hour", "day"]))
    def create_export(self, interval: str) -> None:
        self.exports.append(self.api.create_export(interval=interval)["id"])

    @precondition(lambda self: self.exports)
    @rule(data=st.data(), endings=st.lists(st.sampled_from([*ENDINGS, "Running"]), max_size=3))
    def plan_outcomes(self, data: st.DataObject, endings: list[str]) -> None:
        export_id = data.draw(st.sampled_from(self.exports))
        for ending in endings:
            self.server.store.planned_outcomes.setdefault(export_id, deque()).append(
                Outcome(ending, latest_error=None if ending == "Completed" else f"planned {ending}")
            )

    @rule(seconds=st.sampled_from([1, 29, 30, 31, 150, 600, 3600, 4 * 3600]))
    def advance(self, seconds: int) -> None:
        assert self.api.post("/_mock/clock/advance/", json={"seconds": seconds}).status_code == 200

    @precondition(lambda self: self.seen)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.seen)))
        run = self.server.store.runs[run_id]
        response = self.api.post(
            f"/batch_exports/{run.batch_export_id}/runs/{run_id}/cancel/", query_string={"after": "-1y"}
        )
        if self.seen[run_id] in ACTIVE:
            assert (response.status_code, response.json) == (200, {"cancelled": True})
        else:
            assert response.status_code == 400
            assert response.json["detail"] == f"Cannot cancel a run that is in '{self.seen[run_id]}' status"

    @invariant()
    def statuses_move_only_along_the_table(self) -> None:
        if not hasattr(self, "api"):
            return
        for export_id in self.exports:
            runs: list[dict[str, Any]] = self.api.get(
                f"/batch_exports/{export_id}/runs/", query_string={"after": "-1y"}
            ).json["results"]
            for run in runs:
                before = self.seen.get(run["id"], "Starting")
                assert reachable(before, run["status"]) or before == run["status"], (before, run["status"])
                if run["status"] in TERMINAL_RUN_STATUSES - {"Cancelled"}:
                    assert run["finished_at"] is not None
                self.seen[run["id"]] = run["status"]


TestRunLifecycle = RunLifecycle.TestCase
TestRunLifecycle.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
