"""Mutants that break a rule of the fake's domain: what it keeps, lists, or lets happen.

Each is a subclass of one domain service that overrides a single method the way a
plausible bug would. :func:`with_service` makes a fresh fake whose service of that kind
behaves as the subclass does; everything else (the HTTP layer, the control plane, the
clock) is the unbroken fake's. :func:`with_scope` breaks the other place a rule lives:
the scope an operation requires, which the fake reads from the spec.

The docstrings say what breaks and which property of the contract suite must notice.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from mockserver import MockServer
from mockserver.domain.batch_exports import LATEST_RUNS, BatchExports, FieldErrors
from mockserver.domain.engine import Engine
from mockserver.domain.lifecycle import ACTIVE, BACKFILL_TRANSITIONS, Outcome, transition
from mockserver.domain.logs import LogQuery, Logs
from mockserver.domain.models import Backfill, BatchExport, LogEntry, Run, Team
from mockserver.domain.runs import RunQuery, Runs
from mockserver.errors import ValidationError
from mockserver.http.spec import load_spec

__all__ = [
    "AnyProjectFindsExport",
    "BackfillCompletedBeforeRunsEnd",
    "CancelledBackfillKeepsRunsGoing",
    "CancelledRunCompletesLater",
    "CreatedAtBumpedOnUpdate",
    "LastPausedAtNeverSet",
    "LatestRunsOldestTen",
    "LimitCappedAtFifty",
    "LogsOldestFirst",
    "PatchResetsPaused",
    "RunsIgnoreAfterBefore",
    "SecondPauseIs400",
    "UnpauseKeepsPaused",
    "CancelAcceptedWhenFinished",
    "CountIncludesDeleted",
    "DeletedStillListed",
    "DeletedStillRetrievable",
    "PagesEndOneEarly",
    "PatchNotKept",
    "RetryReopensRun",
    "with_scope",
    "with_service",
]


def with_service(broken: type[BatchExports] | type[Runs] | type[Engine] | type[Logs]) -> MockServer:
    """A fresh fake whose batch-exports, runs, scheduler or logs service behaves as ``broken``, a subclass of it.

    The service object is kept and only its class changes: the subclasses add no state,
    and the backend's wiring (the scheduler's listeners, the backfill hook) stays intact.
    """
    server = MockServer()
    backend = server.backend
    service: Any = next(
        s for s in (server.batch_exports, backend.runs, backend.engine, backend.logs) if issubclass(broken, type(s))
    )
    assert isinstance(service, broken.__mro__[1])
    service.__class__ = broken
    return server


# -- batch exports ---------------------------------------------------------------------


class PagesEndOneEarly(BatchExports):
    """Pagination: a page's slice ends one item early (``[offset : offset + limit - 1]``).

    ``count`` and the ``next`` links are right, so walking the pages skips an item at
    every page boundary. Caught by ``pagination.slice`` (and ``pagination.walk``).
    """

    def page_for_teams(self, team_ids: list[int], *, offset: int, limit: int | None) -> tuple[int, list[BatchExport]]:
        return super().page_for_teams(team_ids, offset=offset, limit=None if limit is None else limit - 1)


class CountIncludesDeleted(BatchExports):
    """Counts: a list's ``count`` also counts the project's deleted exports.

    Right until the first delete; the pages themselves stay right. Caught by
    ``pagination.count`` once the suite has deleted an export.
    """

    def page_for_teams(self, team_ids: list[int], *, offset: int, limit: int | None) -> tuple[int, list[BatchExport]]:
        _count, page = super().page_for_teams(team_ids, offset=offset, limit=limit)
        return sum(len(self.store.exports_by_team.get(team_id, ())) for team_id in team_ids), page


class PatchNotKept(BatchExports):
    """Persistence: a PATCH is validated and answered 200, but the change is made to a copy.

    Caught by ``patch.persists`` (retrieve must show the new name).
    """

    def update(
        self, export: BatchExport, team: Team, data: Any, field_errors: Any, *, partial: bool, team_scoped: bool = True
    ) -> BatchExport:
        return super().update(copy.copy(export), team, data, field_errors, partial=partial, team_scoped=team_scoped)


class DeletedStillRetrievable(BatchExports):
    """Delete: a soft-deleted export is gone from lists but still found by id.

    Retrieve, patch, pause and unpause keep working on it. Caught by ``delete.gone``
    (every request about a deleted export must be 404).
    """

    def get(self, team_ids: list[int], export_id: str) -> BatchExport:
        export = self.store.batch_exports.get(export_id)
        if export is not None and export.deleted and export.team_id in team_ids:
            return export
        return super().get(team_ids, export_id)


class DeletedStillListed(BatchExports):
    """Delete: a soft-deleted export is 404 by id but stays in every list (and its ``count``).

    Caught by ``delete.gone`` (no deleted export listed), or first by ``pagination.count``.
    """

    def delete(self, export: BatchExport) -> None:
        listed = self.store.listed_exports.get(export.team_id, [])
        position = listed.index(export.id) if export.id in listed else None
        super().delete(export)
        if position is not None:
            listed.insert(position, export.id)


class AnyProjectFindsExport(BatchExports):
    """Isolation: an export is found by id whatever project the URL names.

    The classic insecure direct object reference: another organization's key reads,
    patches, pauses or deletes the export through a URL of its own project. Should be
    caught by ``auth.isolation`` (another organization's key never sees these exports).
    """

    def get(self, team_ids: list[int], export_id: str) -> BatchExport:
        export = self.store.batch_exports.get(export_id)
        if export is not None and not export.deleted:
            return export
        return super().get(team_ids, export_id)


# -- runs ------------------------------------------------------------------------------


class RetryReopensRun(Runs):
    """Run lifecycle: retry re-runs the run in place, so a finished run goes back to ``Running``.

    It still answers with a new backfill, as retry should, and the run finishes again
    later. Caught by ``lifecycle.runs`` (terminal states stay terminal) or by
    ``retry.leaves-run``.
    """

    def retry(self, run: Run) -> str:
        now = self.store.clock.now()
        run.status, run.finished_at = "Running", None
        self.engine.plan(now + timedelta(seconds=self.store.progression.finish_after), "finish", run.id)
        return super().retry(run)


class CancelAcceptedWhenFinished(Runs):
    """Run lifecycle: cancel answers 200 for a run that already ended (and changes nothing).

    Caught by ``cancel.only-active`` (cancel succeeds only while Starting/Running,
    otherwise 400).
    """

    def cancel(self, run: Run) -> None:
        if run.status in ACTIVE:
            super().cancel(run)


# -- scopes ----------------------------------------------------------------------------


def with_scope(scope: str, operations: Iterable[str]) -> MockServer:
    """A fresh fake that requires ``scope`` for the given operations instead of the spec's."""
    spec = copy.copy(load_spec())
    wanted = set(operations)
    unknown = wanted - set(spec.operations)
    assert not unknown, f"no such operations: {sorted(unknown)}"
    spec.operations = {name: replace(op, scope=scope) if name in wanted else op for name, op in spec.operations.items()}
    return MockServer(spec=spec)


# -- further mutants -------------------------------------------------------------------


class LimitCappedAtFifty(BatchExports):
    """Pagination: a page holds at most 50 exports whatever ``limit`` asks (a ``max_limit`` PostHog does not have).

    ``count`` is right and the links are made from the ``limit`` asked, so with more than
    50 exports a client asking ``limit=100`` never sees the 51st to the 100th. Caught by
    ``pagination.slice``: once per run, with a control plane, a page of 51 exports.
    """

    def page_for_teams(self, team_ids: list[int], *, offset: int, limit: int | None) -> tuple[int, list[BatchExport]]:
        return super().page_for_teams(team_ids, offset=offset, limit=None if limit is None else min(limit, 50))


class SecondPauseIs400(BatchExports):
    """Idempotence: pausing an export that is already paused is a 400 (``Batch export is already paused``).

    Caught by ``pause.idempotent`` (pause and unpause answer the same however often).
    """

    def pause(self, export: BatchExport) -> None:
        if export.paused:
            raise ValidationError("Batch export is already paused.")
        super().pause(export)


class UnpauseKeepsPaused(BatchExports):
    """Persistence: unpause answers ``{"paused": false}`` but the export stays paused.

    The schedule service is told, the model field is never saved. Caught by
    ``pause.idempotent`` (retrieve and list show the state).
    """

    def unpause(self, export: BatchExport, backfill: Any = False) -> None:
        if export.paused:
            export.last_updated_at = self.store.clock.now()
            self._changed(export)


class LastPausedAtNeverSet(BatchExports):
    """Timestamps: pause sets ``paused`` but never ``last_paused_at`` (it stays ``null``).

    Unpause with ``backfill`` then has no start to backfill from. Caught by
    ``timestamps``: a pause of an unpaused export sets ``last_paused_at``.
    """

    def pause(self, export: BatchExport) -> None:
        if export.paused:
            return
        now = self.store.clock.now()
        export.paused, export.last_updated_at = True, now
        self._changed(export)


class PatchResetsPaused(BatchExports):
    """Persistence: a PATCH that does not send ``paused`` sets it back to ``false`` (a default applied on update).

    Caught by ``patch.persists``: a rename of the export each example pauses first keeps it
    paused.
    """

    def update(
        self,
        export: BatchExport,
        team: Team,
        data: Mapping[str, Any],
        field_errors: FieldErrors,
        *,
        partial: bool,
        team_scoped: bool = True,
    ) -> BatchExport:
        if "paused" not in data:
            data = {**data, "paused": False}
        return super().update(export, team, data, field_errors, partial=partial, team_scoped=team_scoped)


class CreatedAtBumpedOnUpdate(BatchExports):
    """Timestamps: every update rewrites ``created_at`` to now (``auto_now`` where ``auto_now_add`` was meant).

    Lists keep their order (by insertion). Caught by ``timestamps``:
    ``created_at`` is what the create answered, for good.
    """

    def update(
        self,
        export: BatchExport,
        team: Team,
        data: Mapping[str, Any],
        field_errors: FieldErrors,
        *,
        partial: bool,
        team_scoped: bool = True,
    ) -> BatchExport:
        updated = super().update(export, team, data, field_errors, partial=partial, team_scoped=team_scoped)
        updated.created_at = updated.last_updated_at
        return updated


class LatestRunsOldestTen(BatchExports):
    """Derived fields: ``latest_runs`` are the export's ten *oldest* runs (newest first among them).

    ``ORDER BY created_at`` then ``[:10]``, reversed afterwards. Caught by
    ``latest-runs`` once an export has more than ten runs (they must be the newest ten).
    """

    def latest_runs(self, export: BatchExport) -> list[Run]:
        runs = self.store.runs
        return [runs[i] for i in reversed(self.store.runs_by_export.get(export.id, [])[:LATEST_RUNS])]


class RunsIgnoreAfterBefore(Runs):
    """Filters: the runs list ignores ``after`` and ``before`` (always the last seven days).

    Caught by ``runs.filters``: runs listed with ``after``/``before`` are exactly those
    created between them.
    """

    def query(self, team_id: int, export_id: str, query: RunQuery) -> Sequence[Run]:
        return super().query(team_id, export_id, replace(query, after=None, before=None))


class LogsOldestFirst(Logs):
    """Logs: log lines come oldest first (``ORDER BY timestamp ASC``), so the cap keeps the oldest, not the newest.

    Caught by ``logs.order``: an export's log lines come newest first.
    """

    def query(self, team_ids: Collection[int], source_id: str, query: LogQuery) -> list[LogEntry]:
        every = super().query(team_ids, source_id, replace(query, limit=10**9))
        return list(reversed(every))[: max(query.limit, 0)]


class CancelledRunCompletesLater(Engine):
    """Run lifecycle: a cancelled run reads ``Cancelled``, then ``Completed`` when its work would have ended.

    The worker never hears of the cancel and its success overwrites the status. Should be
    caught by ``lifecycle.runs`` (``Cancelled`` is terminal).
    """

    def cancel_run(self, run: Run, at: datetime) -> None:
        super().cancel_run(run, at)
        self.event_handlers["late-finish"] = self._late_finish
        self.plan(at + timedelta(seconds=self.store.progression.finish_after), "late-finish", run.id)

    def _late_finish(self, at: datetime, run_id: str, _version: int) -> None:
        run = self.store.runs[run_id]
        if run.status == "Cancelled":
            run.status = "Running"  # what the worker still believes
            self.finish(run, at, Outcome("Completed"))


class BackfillCompletedBeforeRunsEnd(Engine):
    """Backfills: a backfill is ``Completed`` as soon as its last run is *created*, not when that run ends.

    Its ``total_records_count`` then misses the last run's records, and a client that waits
    for ``Completed`` reads runs still ``Starting``. Caught by ``lifecycle.backfills``: a
    ``Completed`` backfill has no active run.
    """

    def create_run(
        self,
        export: BatchExport,
        start: datetime | None,
        end: datetime,
        at: datetime,
        *,
        backfill: Backfill | None = None,
    ) -> Run:
        run = super().create_run(export, start, end, at, backfill=backfill)
        if backfill is not None:
            count = self.backfill_interval_count(backfill)
            if count is not None and len(self.store.runs_by_backfill.get(backfill.id, ())) >= count:
                self._end_backfill(backfill, "Completed", at)
        return run


class CancelledBackfillKeepsRunsGoing(Engine):
    """Backfills: cancelling a backfill marks it ``Cancelled`` but leaves its running run alone, which then completes.

    Caught by ``cancel.stops-runs``: no run of a cancelled backfill completes after the
    cancel.
    """

    def cancel_backfill(self, backfill: Backfill, at: datetime) -> None:
        transition(backfill, "Cancelled", at, BACKFILL_TRANSITIONS)
