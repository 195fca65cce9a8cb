"""PostHog's ``relative_date_parse`` for the runs list filters: ISO dates or ``-7d``-style offsets."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mockserver.domain.dates import parse_datetime

__all__ = ["parse_relative"]

_RELATIVE = re.compile(r"^-?(?P<number>\d+)?(?P<unit>[hdwmqyM])(?P<position>Start|End)?$")


def _months_back(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(
        moment.day,
        [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
            month
        ],
    )
    return moment.replace(year=year, month=month + 1, day=day)


def parse_relative(value: str, now: datetime, timezone: str = "UTC") -> datetime | None:
    """``"2026-01-01"``, ``"2026-01-01T10:00:00Z"``, ``"-7d"``, ``"-24h"``, ``"-1m"`` (month), ``"-30M"`` (minutes).

    Values are read in the team's ``timezone``; ``None`` when the value means nothing,
    including an offset that reaches before year 1.
    """
    try:
        return _parse(value, now, timezone)
    except (OverflowError, ValueError):
        return None


def _parse(value: str, now: datetime, timezone: str) -> datetime | None:
    absolute = parse_datetime(value)
    if absolute is not None:
        if not re.search(r"(Z|[+-]\d\d:?\d\d)$", value.strip()):
            naive = absolute.replace(tzinfo=None)
            absolute = naive.replace(tzinfo=ZoneInfo(timezone))
        return absolute
    match = _RELATIVE.match(value.strip())
    if not match:
        return None
    number = int(match["number"] or 1)
    unit = match["unit"]
    local = now.astimezone(ZoneInfo(timezone))
    if unit == "M":
        moment = local - timedelta(minutes=number)
    elif unit == "h":
        moment = local - timedelta(hours=number)
    elif unit == "d":
        moment = local - timedelta(days=number)
    elif unit == "w":
        moment = local - timedelta(weeks=number)
    else:
        moment = _months_back(local, number * {"m": 1, "q": 3, "y": 12}[unit])
    if match["position"] == "Start":
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    elif match["position"] == "End":
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    return moment
