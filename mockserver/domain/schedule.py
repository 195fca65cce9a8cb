"""When a batch export's schedule fires, and which data interval each run covers.

PostHog drives each export with a Temporal schedule (``sync_batch_export`` in
``products/batch_exports/backend/service.py``):

* ``hour`` and ``every N minutes`` fire on UTC boundaries of the interval;
* ``day`` fires daily at ``offset_hour`` o'clock in the export's ``timezone``;
* ``week`` fires on ``offset_day`` (0 = Sunday) at ``offset_hour`` in the ``timezone``.

A run created at fire time ``t`` covers ``[t - interval, t)``: PostHog subtracts a fixed
``timedelta``, so across a DST change a daily run spans 23 or 25 hours of wall time
while its end stays on the local hour. ``start_at``/``end_at`` bound the fire times.
PostHog adds start jitter (up to 15 min hourly); the fake fires exactly on time so that
tests can predict every run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from mockserver.domain.models import BatchExport

__all__ = ["INTERVALS", "interval_delta", "next_fire"]

#: ``BATCH_EXPORT_INTERVALS`` and the timedelta of each.
INTERVALS: dict[str, timedelta] = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "every 5 minutes": timedelta(minutes=5),
    "every 15 minutes": timedelta(minutes=15),
}


def interval_delta(interval: str) -> timedelta:
    return INTERVALS[interval]


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """``hour`` o'clock on ``day`` in ``zone``, as UTC (a non-existent hour moves forward)."""
    local = datetime.combine(day, time(hour), tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone).astimezone(UTC)


def next_fire(export: BatchExport, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after`` within ``start_at``/``end_at``, if any.

    ``None`` too when it would fall past year 9999: such a schedule never fires.
    """
    try:
        return _next_fire(export, after)
    except (OverflowError, ValueError):
        return None


def _next_fire(export: BatchExport, after: datetime) -> datetime | None:
    interval = export.interval
    if export.start_at is not None and after < export.start_at:
        after = export.start_at - timedelta(microseconds=1)
    if interval in ("day", "week"):
        zone = _zone(export.timezone or "UTC")
        hour = export.offset_hour or 0
        day = after.astimezone(zone).date() - timedelta(days=1)
        candidate = None
        for _ in range(16):
            if interval == "day" or (day.isoweekday() % 7) == (export.offset_day or 0):
                fire = _local(day, hour, zone)
                if fire > after:
                    candidate = fire
                    break
            day += timedelta(days=1)
    else:
        step = int(INTERVALS[interval].total_seconds())
        epoch = int(after.timestamp())
        candidate = datetime.fromtimestamp((epoch // step + 1) * step, UTC)
    if candidate is None or (export.end_at is not None and candidate > export.end_at):
        return None
    return candidate
