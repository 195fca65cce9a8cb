"""PostHog's ``relative_date_parse`` (``posthog/utils.py``) for the runs list filters.

PostHog reads a value in the project's time zone:

1. an ISO 8601 date or datetime (naive ones in the project's zone), or an unpadded
   ``2021-1-1``;
2. else the first ``-<number><kind><position>`` found *anywhere* in the text (a search,
   not a match: ``-3days`` is three days, ``-30s`` thirty seconds); kinds ``h`` ``d``
   ``w`` ``m`` (months) ``M`` (minutes) ``s`` ``q`` (13 weeks) ``y``; ``Start``/``End``
   set fields rather than move them (``dStart``: today at midnight; ``-1mStart``: the
   1st of last month, the time of day kept; ``-1hStart``: the start of the previous hour);
3. else, or with a kind it has no rule for (``D``, ``W``, ``Q``, ``Y``), or with no
   number (``-d``): now.

The moves are dateutil's ``relativedelta`` subtracted from now: fields set first (the
day clamped to the month), months and years moved with the day clamped, then days,
weeks, hours, minutes and seconds.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
>>> for value in ("-7d", "dStart", "-1dStart", "-1mStart", "-1hStart", "-2q", "-3days", "-30s", "-d", "2021-1-1"):
...     print(f"{value:>9}", parse_relative(value, now).isoformat())
      -7d 2026-03-08T10:30:00+00:00
   dStart 2026-03-15T00:00:00+00:00
 -1dStart 2026-03-14T00:00:00+00:00
 -1mStart 2026-02-01T10:30:00+00:00
 -1hStart 2026-03-15T09:00:00+00:00
      -2q 2025-09-14T10:30:00+00:00
   -3days 2026-03-12T10:30:00+00:00
     -30s 2026-03-15T10:29:30+00:00
       -d 2026-03-15T10:30:00+00:00
 2021-1-1 2021-01-01T00:00:00+00:00
"""

from __future__ import annotations

import calendar
import contextlib
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mockserver.domain.dates import parse_datetime

__all__ = ["parse_relative"]

_RELATIVE = re.compile(r"-?(?P<number>[0-9]+)?(?P<kind>[hdwmqysHDWMQY])(?P<position>Start|End)?")
_UNPADDED_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_START_OF_HOUR = {"minute": 0, "second": 0, "microsecond": 0}
_END_OF_HOUR = {"minute": 59, "second": 59, "microsecond": 999999}


def parse_relative(value: str, now: datetime, timezone: str = "UTC") -> datetime | None:
    """The instant ``value`` names for a project in ``timezone`` when it is ``now``.

    ``None`` only where PostHog's arithmetic would fail (before year 1 or after 9999):
    the fake then ignores the filter rather than answer a server error.

    >>> from datetime import UTC
    >>> parse_relative("2021-13-01", datetime(2026, 3, 15, 10, 30, tzinfo=UTC)).isoformat()  # no date: now
    '2026-03-15T10:30:00+00:00'
    """
    try:
        return _parse(value, now, ZoneInfo(timezone))
    except (OverflowError, ValueError):
        return None


def _parse(value: str, now: datetime, zone: ZoneInfo) -> datetime:
    absolute = parse_datetime(value)
    if absolute is not None:
        if not re.search(r"(Z|[+-]\d\d:?\d\d)$", value.strip()):
            return absolute.replace(tzinfo=None).replace(tzinfo=zone)
        return absolute.astimezone(zone)
    unpadded = _UNPADDED_DATE.fullmatch(value)
    if unpadded:
        year, month, day = (int(part) for part in unpadded.groups())
        with contextlib.suppress(ValueError):  # 2021-13-01 is no date: on to the pattern search
            return datetime(year, month, day, tzinfo=zone)
    local = now.astimezone(zone)
    match = _RELATIVE.search(value)
    if not match:
        return local
    moves, fields = _delta(match["kind"], match["number"], match["position"])
    return _subtract(local, moves, fields)


def _delta(kind: str, number: str | None, position: str | None) -> tuple[dict[str, int], dict[str, int]]:
    """PostHog's ``get_delta_mapping_for``: how far back (``moves``) and which fields to set."""
    n = int(number) if number else 0
    moves: dict[str, int] = {}
    fields: dict[str, int] = {}
    if kind == "h":
        moves["hours"] = n
        fields = _START_OF_HOUR if position == "Start" else _END_OF_HOUR if position == "End" else {}
    elif kind == "d":
        moves["days"] = n
        if position == "Start":
            fields = {"hour": 0, **_START_OF_HOUR}
        elif position == "End":
            fields = {"hour": 23, **_END_OF_HOUR}
    elif kind == "w":
        moves["days"] = 7 * n
    elif kind == "m":
        moves["months"] = n
        fields = {"day": 1} if position == "Start" else {"day": 31} if position == "End" else {}
    elif kind == "M":
        moves["minutes"] = n
    elif kind == "s":
        moves["seconds"] = n
    elif kind == "q":
        moves["days"] = 7 * 13 * n
    elif kind == "y":
        moves["months"] = 12 * n
        fields = {"month": 1, "day": 1} if position == "Start" else {"day": 31} if position == "End" else {}
    return moves, fields


def _subtract(moment: datetime, moves: dict[str, int], fields: dict[str, int]) -> datetime:
    """``moment - relativedelta(**moves, **fields)``, as dateutil computes it."""
    months = moment.year * 12 + moment.month - 1 - moves.get("months", 0)
    if "month" in fields:
        months = (months // 12) * 12 + fields["month"] - 1
    year, month = divmod(months, 12)
    month += 1
    day = min(calendar.monthrange(year, month)[1], fields.get("day", moment.day))
    replaced = moment.replace(
        year=year,
        month=month,
        day=day,
        hour=fields.get("hour", moment.hour),
        minute=fields.get("minute", moment.minute),
        second=fields.get("second", moment.second),
        microsecond=fields.get("microsecond", moment.microsecond),
    )
    return replaced - timedelta(
        days=moves.get("days", 0),
        hours=moves.get("hours", 0),
        minutes=moves.get("minutes", 0),
        seconds=moves.get("seconds", 0),
    )
