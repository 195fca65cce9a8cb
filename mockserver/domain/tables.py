"""A mapping for tables that grow to millions of rows without a pause as they grow.

A ``dict`` doubles its table when it fills up, rehashing every key in one insertion:
at 1.4 million keys that one insertion takes ~75 ms, at 2.8 million ~160 ms (measured),
and it happens under the store's lock, so every other client waits that long. A clock
jump of ten years with two five-minute exports makes 2.1 million runs.
:class:`ShardedDict` spreads the rows over :data:`SHARDS` dicts, so each of them
rehashes a sixty-fourth of the rows when it grows.

Iteration follows insertion order, as a ``dict``'s does: a list of keys keeps it
(appending to a list never rehashes anything). A key's shard comes from its CRC-32, not
from ``hash()``, which differs from one process to the next: the same ids land in the
same shards in every run, so a run's cost does not depend on the process's hash seed.

>>> table = ShardedDict()
>>> table["b"], table["a"] = 2, 1
>>> list(table.items()), len(table), table.get("c")
([('b', 2), ('a', 1)], 2, None)
>>> del table["b"]
>>> list(table)
['a']
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any, TypeVar, overload

__all__ = ["SHARDS", "ShardedDict"]

V = TypeVar("V")
T = TypeVar("T")

#: How many dicts a table is spread over (a power of two: a shard is picked by masking the hash).
SHARDS = 64
_MASK = SHARDS - 1


def _shard(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) & _MASK


class ShardedDict(MutableMapping[str, V]):
    """A ``dict`` in :data:`SHARDS` parts, in insertion order; removing a key costs O(rows).

    Made for append-mostly tables (runs, a run's log lines): rows are added as time
    passes and removed only when the whole store is reset.
    """

    __slots__ = ("_order", "_shards")

    def __init__(self, items: Iterable[tuple[str, V]] = ()) -> None:
        self._shards: list[dict[str, V]] = [{} for _ in range(SHARDS)]
        self._order: list[str] = []
        for key, value in items:
            self[key] = value

    def __getitem__(self, key: str) -> V:
        if not isinstance(key, str):
            raise KeyError(key)
        return self._shards[_shard(key)][key]

    @overload
    def get(self, key: str, /) -> V | None: ...
    @overload
    def get(self, key: str, /, default: V | T) -> V | T: ...
    def get(self, key: str, /, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        return self._shards[_shard(key)].get(key, default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._shards[_shard(key)]

    def __setitem__(self, key: str, value: V) -> None:
        shard = self._shards[_shard(key)]
        new = key not in shard
        shard[key] = value
        if new:  # after the row: a reader never finds an ordered key without its row
            self._order.append(key)

    def __delitem__(self, key: str) -> None:
        del self._shards[_shard(key)][key]
        self._order.remove(key)

    def __len__(self) -> int:
        return len(self._order)

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __repr__(self) -> str:
        return f"ShardedDict({len(self)} rows)"

    def clear(self) -> None:
        for shard in self._shards:
            shard.clear()
        self._order.clear()
