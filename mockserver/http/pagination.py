"""DRF's ``LimitOffsetPagination`` as PostHog configures it (page size 100, no maximum).

``next``/``previous`` are absolute URLs of the current request with ``limit`` and
``offset`` replaced and the query string re-encoded with sorted keys, as DRF's
``replace_query_param`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode

from mockserver.http.memo import memoize_short

__all__ = ["DEFAULT_LIMIT", "limit_offset", "page", "page_links"]

DEFAULT_LIMIT = 100
T = TypeVar("T")


def _positive_int(raw: Any, *, strict: bool, default: int) -> int:
    """DRF's ``_positive_int``: anything unparsable, negative (or zero when strict) is the default."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    if value < 0 or (strict and value == 0):
        return default
    return value


def limit_offset(raw_limit: Any, raw_offset: Any, default_limit: int = DEFAULT_LIMIT) -> tuple[int, int]:
    limit = default_limit if raw_limit is None else _positive_int(raw_limit, strict=True, default=default_limit)
    offset = 0 if raw_offset is None else _positive_int(raw_offset, strict=False, default=0)
    return limit, offset


def _with_query(base_url: str, query_string: str, changes: dict[str, int | None]) -> str:
    """DRF's ``replace_query_param``/``remove_query_param``: repeated keys keep all their values."""
    return _link(base_url, query_string, tuple(changes.items()))


@memoize_short(maxsize=4096)
def _link(base_url: str, query_string: str, changes: tuple[tuple[str, int | None], ...]) -> str:
    # Cached: clients page through the same URLs over and over, and parsing and
    # re-encoding the query string costs more than the rest of a list's envelope.
    params = parse_qs(query_string, keep_blank_values=True)
    for key, value in changes:
        if value is None:
            params.pop(key, None)
        else:
            params[key] = [str(value)]
    encoded = urlencode(sorted(params.items()), doseq=True)
    return f"{base_url}?{encoded}" if encoded else base_url


def page(
    items: Sequence[T], *, limit: int, offset: int, base_url: str, query_string: str
) -> tuple[list[T], dict[str, Any]]:
    """Slice one page; return it with the envelope keys (``count``, ``next``, ``previous``)."""
    results = list(items[offset : offset + limit])
    return results, page_links(len(items), limit=limit, offset=offset, base_url=base_url, query_string=query_string)


def page_links(count: int, *, limit: int, offset: int, base_url: str, query_string: str) -> dict[str, Any]:
    """The envelope keys of a page at ``offset`` of ``count`` items, when the page is already cut."""
    next_url = None
    if offset + limit < count:
        next_url = _with_query(base_url, query_string, {"limit": limit, "offset": offset + limit})
    previous_url = None
    if offset > 0:
        if offset - limit <= 0:
            previous_url = _with_query(base_url, query_string, {"limit": limit, "offset": None})
        else:
            previous_url = _with_query(base_url, query_string, {"limit": limit, "offset": offset - limit})
    return {"count": count, "next": next_url, "previous": previous_url}
