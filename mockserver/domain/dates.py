"""Datetime parsing and rendering the way PostHog (Django REST framework) does it."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

__all__ = ["DATETIME_FORMAT_ERROR", "format_datetime", "parse_datetime"]

DATETIME_FORMAT_ERROR = (
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)

# django.utils.dateparse.datetime_re: the fallback when fromisoformat refuses a value.
_DATETIME_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[.,](?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"\s*(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_datetime(value: str) -> datetime | None:
    """Parse like DRF's ``DateTimeField``: ISO 8601, naive values read as UTC; ``None`` if invalid."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        match = _DATETIME_RE.fullmatch(value.strip())
        if not match:
            return None
        parts = match.groupdict()
        tz_text = parts.pop("tzinfo")
        micro = (parts.pop("microsecond") or "0").ljust(6, "0")
        try:
            n = {k: int(v) for k, v in parts.items() if v is not None}
            parsed = datetime(n["year"], n["month"], n["day"], n["hour"], n["minute"], n.get("second", 0), int(micro))
            if tz_text:
                parsed = datetime.fromisoformat(parsed.isoformat() + ("+00:00" if tz_text == "Z" else tz_text))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        return None


def format_datetime(value: datetime | None) -> str | None:
    """DRF's rendering: UTC with ``Z``; microseconds only when non-zero."""
    if value is None:
        return None
    return _format(value)


@functools.lru_cache(maxsize=65536)
def _format(value: datetime) -> str:
    # Cached: the same few timestamps are rendered over and over (every list, every run).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
