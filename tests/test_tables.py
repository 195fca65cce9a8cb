"""The store's largest tables (runs, a run's log lines) behave as dicts do, without their growth pauses."""

from __future__ import annotations

import pickle

from mockserver.domain.tables import SHARDS, ShardedDict


def test_a_sharded_table_reads_and_writes_as_a_dict() -> None:
    table: ShardedDict[int] = ShardedDict()
    reference: dict[str, int] = {}
    for n in range(1000):
        key = f"run-{n * 7919 % 1000}"
        table[key] = reference[key] = n
    table["run-3"] = reference["run-3"] = -1  # replacing keeps the key's place
    assert list(table.items()) == list(reference.items())
    assert len(table) == len(reference) and "run-3" in table and "run-x" not in table
    assert table.get("run-x") is None and table.get("run-x", 5) == 5 and table["run-3"] == -1
    del table["run-3"], reference["run-3"]
    assert list(table) == list(reference)
    assert table.setdefault("new", 9) == 9 and list(table)[-1] == "new"


def test_rows_spread_over_every_shard() -> None:
    """Each shard holds about its share, so none grows (and rehashes) much more than the others."""
    table: ShardedDict[int] = ShardedDict((f"01a237fd-{n:08d}", n) for n in range(64_000))
    sizes = [len(shard) for shard in table._shards]
    assert len(sizes) == SHARDS
    assert max(sizes) < 2 * 64_000 / SHARDS


def test_a_sharded_table_survives_a_state_file() -> None:
    table: ShardedDict[list[int]] = ShardedDict([("b", [1]), ("a", [2])])
    copy = pickle.loads(pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL))
    assert list(copy.items()) == [("b", [1]), ("a", [2])]
    table.clear()
    assert len(table) == 0 and list(copy) == ["b", "a"]
