"""Runs as the API sees them: the default seven-day window, filters, cancel and retry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mockserver.domain.backfills import Backfills
from mockserver.domain.engine import Engine
from mockserver.domain.models import Run, require_uuid
from mockserver.domain.ordering import drf_ordering, sort_by_terms
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

    def query(self, team_id: int, export_id: str, query: RunQuery) -> Sequence[Run]:
        """The runs of an export inside the window, in ``ordering`` (ties in creation order).

        An export of another team yields an empty list, not a 404 (PostHog filters by team).
        The window is found by bisection in the export's time-ordered runs; without a status
        filter the answer is a view that copies only the page it is sliced to.

        PostHog picks the window by comparing the raw ``ordering`` with
        ``data_interval_start``, while DRF's ``OrderingFilter`` sorts by every valid term
        of it: ``data_interval_start,created_at`` filters by creation and sorts by start.
        """
        store = self.store
        require_uuid(export_id)
        by_start, lower, upper = self._window(team_id, query)
        terms = drf_ordering(query.ordering, {term.lstrip("-") for term in RUN_ORDERINGS}, "-created_at")
        window_field = "data_interval_start" if by_start else "created_at"
        # The usual case: one term on the window's own field, read off its timeline as it is.
        natural = len(terms) == 1 and terms[0].removeprefix("-") == window_field
        descending = terms[0].startswith("-") if natural else False
        created = store.runs_by_created.get(export_id)
        if created is None or not created.items or created.items[0].team_id != team_id:
            return []  # an export's runs all belong to its team
        if created.items[0].batch_export_id is None:
            return []  # an on-demand export's runs: PostHog filters on ``batch_export_id``
        runs: Sequence[Run]
        if by_start:
            starts = store.runs_by_start[export_id]
            lo, hi = starts.span(lower, upper)  # a run inside the window starts inside it
            runs = [r for r in starts.items[lo:hi] if r.data_interval_end <= upper]
            if descending:
                runs.reverse()
        else:
            lo, hi = created.span(lower, upper)
            runs = created.view(lo, hi, reverse=descending)
        # Timelines keep ties in creation order, so newest first puts the later-created
        # first among ties, which is also the order of ``latest_runs``.
        if not natural:
            # Sorted otherwise than its window (only the created_at window can be: the other
            # needs the whole value to be its one term), which holds them in creation order.
            # Ties as on the timelines: creation order, reversed when the first term descends.
            ordered = list(runs)
            if terms[0].startswith("-"):
                ordered.reverse()
            runs = sort_by_terms(ordered, terms, getattr)
        if query.statuses:
            runs = [r for r in runs if r.status in query.statuses]
        return runs

    def get(self, team_id: int, export_id: str, run_id: str, query: RunQuery) -> Run:
        """One run, through the same windowed queryset as the list (an old run is a 404)."""
        by_start, lower, upper = self._window(team_id, query)
        run = self.store.runs.get(run_id)
        if (
            run is None
            or run.batch_export_id != export_id  # never an on-demand export's run (PostHog: 404)
            or run.team_id != team_id
            or (query.statuses and run.status not in query.statuses)
        ):
            raise NotFound()
        if by_start:
            start = run.data_interval_start
            inside = start is not None and start >= lower and run.data_interval_end <= upper
        else:
            inside = lower <= run.created_at <= upper
        if not inside:
            raise NotFound()
        return run

    def _window(self, team_id: int, query: RunQuery) -> tuple[bool, datetime, datetime]:
        """Whether the window is on ``data_interval_start`` (else ``created_at``), and its
        bounds (the last seven days unless the query says)."""
        now = self.store.clock.now()
        tz = self.store.teams[team_id].timezone
        # PostHog compares the raw value: only these two spellings filter by interval start.
        by_start = query.ordering in ("data_interval_start", "-data_interval_start")
        if by_start:
            lower = _bound(query.start, now, tz) or now - DEFAULT_WINDOW
            upper = _bound(query.end, now, tz) or now
        else:
            lower = _bound(query.after, now, tz) or now - DEFAULT_WINDOW
            upper = _bound(query.before, now, tz) or now
        return by_start, lower, upper

    def cancel(self, run: Run) -> None:
        self.engine.request_cancel(run)

    def retry(self, run: Run) -> str:
        """Backfill the run's interval again, unchecked; returns PostHog's Temporal workflow id.

        The original run is left as it is; a new backfill (and later a new run) appears.
        """
        if run.batch_export_id is None:  # an on-demand export's run (``get`` never yields one)
            raise NotFound()
        export = self.store.batch_exports[run.batch_export_id]
        self.backfills.start(export, run.data_interval_start, run.data_interval_end)
        start = run.data_interval_start.isoformat() if run.data_interval_start else "START"
        return f"{export.id}-Backfill-{start}-{run.data_interval_end.isoformat()}"


def _bound(value: Any, now: datetime, tz: str) -> datetime | None:
    if not value:
        return None
    return parse_relative(str(value), now, tz)
