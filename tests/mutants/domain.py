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
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from mockserver import MockServer
from mockserver.domain.batch_exports import BatchExports
from mockserver.domain.lifecycle import ACTIVE
from mockserver.domain.models import BatchExport, Run, Team
from mockserver.domain.runs import Runs
from mockserver.http.spec import load_spec

__all__ = [
    "AnyProjectFindsExport",
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


def with_service(broken: type[BatchExports] | type[Runs]) -> MockServer:
    """A fresh fake whose batch-exports or runs service behaves as ``broken``, a subclass of it.

    The service object is kept and only its class changes: the subclasses add no state,
    and the backend's wiring (the scheduler's listeners, the backfill hook) stays intact.
    """
    server = MockServer()
    service: BatchExports | Runs = server.batch_exports if issubclass(broken, BatchExports) else server.backend.runs
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
