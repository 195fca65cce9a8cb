"""Records as plain JSON-able data, for :meth:`Store.snapshot <mockserver.domain.store.Store.snapshot>`.

>>> from datetime import datetime, timezone
>>> plain({"at": datetime(2026, 1, 5, tzinfo=timezone.utc), "tags": {"b", "a"}, "content": b"abc"})
{'at': '2026-01-05T00:00:00Z', 'tags': ['a', 'b'], 'content': '<3 bytes>'}
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

from mockserver.domain.dates import format_datetime

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """Dataclasses, dicts, sequences and sets as JSON values; datetimes in PostHog's format.

    Bytes (a file's content) are shown as their size: the state is for reading.
    """
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, deque)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value
