"""Memoizing functions of what a client sends, without letting a client fill the memory.

A cache keyed by a query string or a ``Host`` header keeps whatever length the client
chose, as many times as the cache has entries: 4,096 different 60 KB query strings pinned
close to a gigabyte. :func:`memoize_short` caches only calls whose text arguments are
short, which is every URL a real client pages through; a longer call is computed each
time, at a cost in proportion to its own length.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["memoize_short"]

R = TypeVar("R")

#: Text arguments longer than this, together, are not cached.
MAX_CACHED_CHARS = 1024


def memoize_short(maxsize: int, max_chars: int = MAX_CACHED_CHARS) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """``functools.lru_cache(maxsize)`` for calls whose ``str`` arguments total at most ``max_chars``.

    >>> @memoize_short(maxsize=8, max_chars=5)
    ... def shout(text: str) -> str:
    ...     return text.upper()
    >>> shout("short"), shout("a little longer"), shout.cache_info().currsize
    ('SHORT', 'A LITTLE LONGER', 1)
    """

    def decorate(func: Callable[..., R]) -> Callable[..., R]:
        cached = functools.lru_cache(maxsize=maxsize)(func)

        @functools.wraps(func)
        def call(*args: Any) -> R:
            if sum(len(a) for a in args if isinstance(a, str)) > max_chars:
                return func(*args)
            return cached(*args)

        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call

    return decorate
