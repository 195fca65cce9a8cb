"""Backfills: PostHog's creation checks (``create_backfill``), progress and cancel."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from mockserver.domain.engine import Engine
from mockserver.domain.lifecycle import ACTIVE
from mockserver.domain.models import Backfill, BatchExport, require_uuid
from mockserver.domain.ordering import drf_ordering, sort_by_terms
from mockserver.domain.schedule import interval_delta
from mockserver.domain.store import Store
from mockserver.errors import NotFound, TooManyConcurrentBackfills, ValidationError

__all__ = ["Backfills"]

BACKFILL_ORDERINGS = ("created_at", "-created_at", "start_at", "-start_at")
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
#: Destinations whose backfills may run without an end ("catch up to now").
_OPEN_ENDED = ("HTTP", "NoOp")


class Backfills:
    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    # -- create ----------------------------------------------------------------------

    def create(self, team_id: int, export_id: str, data: Mapping[str, Any], feature_flags: set[str]) -> Backfill:
        """Every check of ``create_backfill``, in PostHog's order; returns the new backfill."""
        store = self.store
        # 1. Soft-deleted exports are found too: PostHog looks the export up without that filter.
        export = store.batch_exports.get(export_id)
        if export is None or export.team_id != team_id:
            raise NotFound("BatchExport not found.")
        raw_start, raw_end = data.get("start_at"), data.get("end_at")
        if raw_start is None and "batch-export-earliest-backfill" not in feature_flags:
            raise ValidationError("Backfilling from the beginning of time is not enabled for this team.")
        running = sum(1 for i in store.backfills_by_team.get(team_id, ()) if store.backfills[i].status in ACTIVE)
        limit = store.limits.concurrent_backfills
        if running >= limit:
            raise TooManyConcurrentBackfills(
                f"This team already has {limit} batch export backfills running. "
                "Wait for some to finish or cancel them before creating more."
            )
        start = self._parse(export, raw_start) if raw_start is not None else None
        end = self._parse(export, raw_end) if raw_end is not None else None
        if start is not None and end is not None:
            if start >= end:
                raise ValidationError("The initial backfill datetime 'start_at' must be before 'end_at'")
            if end > store.clock.now():
                raise ValidationError(f"The provided 'end_at' ({end.isoformat()}) is in the future")
        if end is None and export.destination.type not in _OPEN_ENDED:
            # PostHog raises BatchExportWithNoEndNotAllowedError uncaught here (a 500);
            # the fake answers with that error's own message.
            raise ValidationError("Backfilling a BatchExport with no end date is not allowed")
        return self.start(export, start, end)

    def start(self, export: BatchExport, start: datetime | None, end: datetime | None) -> Backfill:
        """Start a backfill without any check (unpause with ``backfill``, run retry)."""
        now = self.store.clock.now()
        backfill = Backfill(
            id=str(self.store.ids.uuid4()),
            team_id=export.team_id,
            batch_export_id=export.id,
            start_at=start,
            end_at=end,
            status="Starting",
            created_at=now,
            last_updated_at=now,
        )
        self.engine.start_backfill(backfill, now)
        return backfill

    def _parse(self, export: BatchExport, value: Any) -> datetime:
        """``validate_date_input``: bare dates for daily/weekly exports, aware datetimes otherwise.

        ``value`` is whatever JSON the body held: a number or a list gets the same message
        as a malformed string (PostHog catches the ``TypeError`` too).
        """
        if export.interval in ("day", "week"):
            try:
                day = date.fromisoformat(value)
            except (TypeError, ValueError):
                try:
                    datetime.fromisoformat(value)
                except (TypeError, ValueError):
                    raise ValidationError(f"Input '{value}' is not a valid ISO formatted date.") from None
                raise ValidationError(
                    f"Input '{value}' is not a valid ISO formatted date. Daily or weekly batch export backfills "
                    "expect only the date component, but a time was included."
                ) from None
            if export.interval == "week":
                wanted = export.offset_day or 0
                actual = day.isoweekday() % 7
                if actual != wanted:
                    raise ValidationError(
                        # The input as sent (``20260104`` too), as PostHog's message prints it.
                        f"Input {value} is not on the correct day of the week for this batch export. "
                        f"{value} is a {_WEEKDAYS[actual]} but this batch export is configured to run "
                        f"weekly on {_WEEKDAYS[wanted]}."
                    )
            moment = datetime.combine(day, time(export.offset_hour or 0), tzinfo=ZoneInfo(export.timezone or "UTC"))
            if not _in_utc_range(moment):
                raise ValidationError(f"Input '{value}' is not a valid ISO formatted date.")
            return moment
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValidationError(f"Input {value} is not a valid ISO formatted datetime.") from None
        if parsed.tzinfo is None:
            raise ValidationError(f"Input {value} is naive.")
        if not _in_utc_range(parsed):
            raise ValidationError(f"Input {value} is not a valid ISO formatted datetime.")
        return parsed

    # -- reads -----------------------------------------------------------------------

    def query(self, team_id: int, export_id: str, ordering: str | None) -> list[Backfill]:
        """Backfills of an export (another team's export: empty), default newest first.

        ``ordering`` as DRF's ``OrderingFilter`` reads it (comma-separated terms, unknown
        ones dropped); a null ``start_at`` (an earliest backfill) sorts as Postgres sorts
        ``NULL``: last ascending, first descending. Ties keep id order.
        """
        store = self.store
        require_uuid(export_id)
        terms = drf_ordering(ordering, {term.lstrip("-") for term in BACKFILL_ORDERINGS}, "-created_at")
        items = sorted(
            (store.backfills[i] for i in store.backfills_by_export.get(export_id, ())
             if store.backfills[i].team_id == team_id),
            key=lambda b: b.id,
        )  # fmt: skip
        return sort_by_terms(items, terms, getattr)

    def get(self, team_id: int, export_id: str, backfill_id: str) -> Backfill:
        backfill = self.store.backfills.get(backfill_id)
        if backfill is None or backfill.team_id != team_id or backfill.batch_export_id != export_id:
            raise NotFound()
        return backfill

    def progress(self, backfill: Backfill) -> dict[str, Any] | None:
        """``get_progress`` of PostHog's backfill serializer, computed on every read."""
        status = backfill.status
        total = self._expected_runs(backfill)
        if status == "Completed":
            return {"total_runs": total or 0, "finished_runs": total or 0, "progress": 1.0}
        if status not in ACTIVE or not total:
            return None
        if backfill.start_at is None:
            return None
        # ``get_finished_runs``: its runs that ended Completed or Failed (cancelled and
        # terminated ones may be retried by hand, so PostHog leaves them out).
        finished = backfill.finished_runs
        total = max(total, finished)
        return {"total_runs": total, "finished_runs": finished, "progress": round(finished / total, 1)}

    def _expected_runs(self, backfill: Backfill) -> int | None:
        start = backfill.start_at
        if start is None:
            return 1
        if backfill.total_records_count == 0:
            return 0
        end = backfill.end_at or backfill.finished_at
        if end is None and backfill.status == "Running":
            end = self.store.clock.now()
        if end is None:
            return None
        export = self.store.batch_exports[backfill.batch_export_id]
        return max(0, math.ceil((end - start) / interval_delta(export.interval)))  # a start after its end: none

    def cancel(self, backfill: Backfill) -> None:
        if backfill.status not in ACTIVE:
            raise ValidationError(f"Cannot cancel a backfill that is in '{backfill.status}' status")
        self.engine.cancel_backfill(backfill, self.store.clock.now())


def _in_utc_range(moment: datetime) -> bool:
    """Whether ``moment`` has a UTC time Python can hold (``0001-01-01T00:00:00+14:00`` is in year 0 in UTC).

    PostHog accepts such a date and then fails wherever it is read back; the fake refuses it
    with the date check's own message, so that nothing stored is beyond rendering.
    """
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True
