"""Runs as the API sees them: the default seven-day window, filters, cancel and retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mockserver.domain.backfills import Backfills
from mockserver.domain.engine import Engine
from mockserver.domain.models import Run
from mockserver.domain.relative_dates import parse_relative
from mockserver.domain.store import Store
from mockserver.errors import NotFound

__all__ = ["RunQuery", "Runs"]

#: Runs are listed (and retrieved, cancelled, retried) only within this window by default.
DEFAULT_WINDOW = timedelta(days=7)
RUN_ORDERINGS = ("created_at", "-created_at", "data_interval_start", "-data_interval_start")


@dataclass(frozen=True)
class RunQuery:
    """The list filters of ``BatchExportRunViewSet`` (all raw strings, as PostHog reads them)."""

    ordering: str = "-created_at"
    statuses: tuple[str, ...] = ()
    after: str | None = None
    before: str | None = None
    start: str | None = None
    end: str | None = None


class Runs:
    def __init__(self, store: Store, engine: Engine, backfills: Backfills) -> None:
        self.store = store
        self.engine = engine
        self.backfills = backfills

    def query(self, team_id: int, export_id: str, query: RunQuery) -> list[Run]:
        """The runs of an export inside the window, in ``ordering`` (ties in creation order).

        An export of another team yields an empty list, not a 404 (PostHog filters by team).
        """
        store = self.store
        now = store.clock.now()
        tz = store.teams[team_id].timezone
        ordering = query.ordering if query.ordering in RUN_ORDERINGS else "-created_at"
        runs = [store.runs[i] for i in store.runs_by_export.get(export_id, ()) if store.runs[i].team_id == team_id]
        if ordering.lstrip("-") == "data_interval_start":
            lower = _bound(query.start, now, tz) or now - DEFAULT_WINDOW
            upper = _bound(query.end, now, tz) or now
            runs = [
                r for r in runs
                if r.data_interval_start is not None and r.data_interval_start >= lower and r.data_interval_end <= upper
            ]  # fmt: skip
        else:
            lower = _bound(query.after, now, tz) or now - DEFAULT_WINDOW
            upper = _bound(query.before, now, tz) or now
            runs = [r for r in runs if lower <= r.created_at <= upper]
        if query.statuses:
            runs = [r for r in runs if r.status in query.statuses]
        # Runs are kept in creation order; a stable sort keeps ties in that order (newest
        # first when descending), which is also the order of ``latest_runs``.
        field = ordering.lstrip("-")
        floor = datetime.min.replace(tzinfo=now.tzinfo)
        if ordering.startswith("-"):
            runs.reverse()
            runs.sort(key=lambda r: getattr(r, field) or floor, reverse=True)
        else:
            runs.sort(key=lambda r: getattr(r, field) or floor)
        return runs

    def get(self, team_id: int, export_id: str, run_id: str, query: RunQuery) -> Run:
        """One run, through the same windowed queryset as the list (an old run is a 404)."""
        for run in self.query(team_id, export_id, query):
            if run.id == run_id:
                return run
        raise NotFound()

    def cancel(self, run: Run) -> None:
        self.engine.request_cancel(run)

    def retry(self, run: Run) -> str:
        """Backfill the run's interval again, unchecked; returns PostHog's Temporal workflow id.

        The original run is left as it is; a new backfill (and later a new run) appears.
        """
        export = self.store.batch_exports[run.batch_export_id or ""]
        self.backfills.start(export, run.data_interval_start, run.data_interval_end)
        start = run.data_interval_start.isoformat() if run.data_interval_start else "START"
        return f"{export.id}-Backfill-{start}-{run.data_interval_end.isoformat()}"


def _bound(value: Any, now: datetime, tz: str) -> datetime | None:
    if not value:
        return None
    return parse_relative(str(value), now, tz)
