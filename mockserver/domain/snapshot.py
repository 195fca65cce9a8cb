"""Records as plain JSON-able data, for :meth:`Store.snapshot <mockserver.domain.store.Store.snapshot>`.

>>> from datetime import datetime, timezone
>>> plain({"at": datetime(2026, 1, 5, tzinfo=timezone.utc), "tags": {"b", "a"}, "content": b"abc"})
{'at': '2026-01-05T00:00:00Z', 'tags': ['a', 'b'], 'content': '<3 bytes>'}
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

from mockserver.domain.dates import format_datetime

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """Dataclasses, dicts, sequences and sets as JSON values; datetimes in PostHog's format.

    Bytes (a file's content) are shown as their size: the state is for reading. A
    dataclass becomes a dict of its fields in their order (what ``asdict`` gives, without
    its deep copy of every value: the state of a big store has many rows).
    """
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, datetime):
        return format_datetime(value)
    kind: type[object] = type(value)
    names = _field_names(kind)  # type: ignore[arg-type]  # (mypy: a class is hashable)
    if names:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, deque)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


@functools.cache
def _field_names(cls: type[object]) -> tuple[str, ...]:
    """A dataclass's field names in order (empty for anything else)."""
    return tuple(f.name for f in fields(cls)) if is_dataclass(cls) else ()
