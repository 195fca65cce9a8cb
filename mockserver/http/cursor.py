"""DRF-style cursor pagination: opaque ``cursor`` tokens, ``next``/``previous`` links, no ``count``.

The token is base64 of the position (an offset into the ordered result) so it is
stable for a given ordering; anything that does not decode is 404 ``Invalid cursor``,
as DRF's ``CursorPagination`` answers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from mockserver.errors import NotFound
from mockserver.http.memo import memoize_short

__all__ = ["cursor_page"]

T = TypeVar("T")


def _encode(position: int) -> str:
    return base64.b64encode(f"o={position}".encode()).decode()


def _decode(token: str) -> int:
    try:
        text = base64.b64decode(token.encode(), validate=True).decode()
        key, _, value = text.partition("=")
        position = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise NotFound("Invalid cursor") from None
    if key != "o" or position < 0:
        raise NotFound("Invalid cursor")
    return position


@memoize_short(maxsize=4096)
def _link(base_url: str, query_string: str, position: int | None) -> str:
    # Cached: a poller asks for the same pages over and over.
    params = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != "cursor"]
    if position is not None:
        params.append(("cursor", _encode(position)))
    encoded = urlencode(sorted(params))
    return f"{base_url}?{encoded}" if encoded else base_url


def cursor_page(
    items: Sequence[T], *, page_size: int, cursor: str | None, base_url: str, query_string: str
) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` (already ordered) and its ``next``/``previous`` links."""
    position = _decode(cursor) if cursor else 0
    results = list(items[position : position + page_size])
    next_url = _link(base_url, query_string, position + page_size) if position + page_size < len(items) else None
    previous_url = None
    if position > 0:
        back = position - page_size
        previous_url = _link(base_url, query_string, back if back > 0 else None)
    return results, {"next": next_url, "previous": previous_url}
