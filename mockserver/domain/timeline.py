"""Records kept in time order, so that a time window is found by bisection, not by a scan.

A query for "the runs of the last seven days" or "the newest 50 log lines" should cost what
it returns, however long the history behind it. A :class:`Timeline` keeps records sorted by
a key (a ``datetime``), ties in the order they were added, which is the order PostHog's
stable sorts leave them in. Adding at the end (the usual case: the virtual clock only
moves forward) is an append.

>>> from datetime import datetime, timezone
>>> t = Timeline()
>>> for hour, name in [(1, "a"), (3, "c"), (2, "b"), (3, "d")]:
...     t.add(datetime(2026, 1, 1, hour, tzinfo=timezone.utc), name)
>>> lo, hi = t.span(datetime(2026, 1, 1, 2, tzinfo=timezone.utc), None)
>>> list(t.view(lo, hi)), list(t.view(lo, hi, reverse=True))
(['b', 'c', 'd'], ['d', 'c', 'b'])
>>> list(t.newest_first(0, len(t)))
['c', 'd', 'b', 'a']
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

__all__ = ["Timeline", "TimelineView"]

T = TypeVar("T")


class Timeline(Generic[T]):
    """Items sorted by a time key; ties stay in the order they were added."""

    __slots__ = ("items", "keys")

    def __init__(self) -> None:
        self.keys: list[datetime] = []
        self.items: list[T] = []

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def add(self, key: datetime, item: T) -> None:
        keys = self.keys
        if not keys or key >= keys[-1]:
            keys.append(key)
            self.items.append(item)
            return
        at = bisect_right(keys, key)
        keys.insert(at, key)
        self.items.insert(at, item)

    def add_among_ties(self, key: datetime, item: T, order: Callable[[T], Any]) -> None:
        """:meth:`add`, but placed among the items of the same key by ``order`` (after equal ones).

        For an item that arrives out of turn (a run made for an earlier hour after later
        ones): its ties then read in ``order``, as a sort by key and then ``order`` would.
        """
        keys, items = self.keys, self.items
        lo, hi = bisect_left(keys, key), bisect_right(keys, key)
        at = bisect_right(items, order(item), lo, hi, key=order)
        keys.insert(at, key)
        items.insert(at, item)

    def span(self, lower: datetime | None, upper: datetime | None, *, strict: bool = False) -> tuple[int, int]:
        """Positions ``[lo, hi)`` of the items with ``lower <= key <= upper``
        (``lower < key < upper`` when ``strict``); ``None`` leaves that side open."""
        keys = self.keys
        lo = 0 if lower is None else bisect_right(keys, lower) if strict else bisect_left(keys, lower)
        hi = len(keys) if upper is None else bisect_left(keys, upper) if strict else bisect_right(keys, upper)
        return lo, max(lo, hi)

    def view(self, lo: int, hi: int, *, reverse: bool = False) -> TimelineView[T]:
        """Items ``lo`` to ``hi`` as a sequence that copies nothing until sliced."""
        return TimelineView(self.items, lo, hi, reverse)

    def newest_first(self, lo: int, hi: int) -> Iterator[T]:
        """Items ``hi - 1`` down to ``lo`` by key, ties still in the order they were added
        (what a stable sort by key, descending, gives): lazily, so a capped read stops early."""
        keys, items = self.keys, self.items
        end = hi
        while end > lo:
            start = bisect_left(keys, keys[end - 1], lo, end)
            yield from items[start:end]
            end = start


class TimelineView(Sequence[T]):
    """A window of a :class:`Timeline`, forwards or backwards; slicing copies only the slice."""

    __slots__ = ("_hi", "_items", "_lo", "_reverse")

    def __init__(self, items: list[T], lo: int, hi: int, reverse: bool) -> None:
        self._items = items
        self._lo = lo
        self._hi = hi
        self._reverse = reverse

    def __len__(self) -> int:
        return self._hi - self._lo

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        n = self._hi - self._lo
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            if stop <= start:
                return []
            if not self._reverse:
                return self._items[self._lo + start : self._lo + stop]
            # Backwards: view positions start..stop-1 are items hi-1-start down to hi-stop.
            chunk = self._items[self._hi - stop : self._hi - start]
            chunk.reverse()
            return chunk
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self._items[self._hi - 1 - index] if self._reverse else self._items[self._lo + index]
