"""The store's tables: each has one owner that keeps its indexes, and the state shows them all.

``mockserver.domain.store`` declares every table (``TABLES``), every index (``INDEXES``),
the settings and the scheduler's queue. These tests hold the code to that declaration:

* every attribute a store keeps is declared, so a new one cannot slip in unnoticed;
* ``GET /_mock/state/`` shows every row of every table (the next table added must be
  added to the state too, or this fails);
* only a table's owner adds or removes its rows or touches its indexes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from support import Api

from mockserver import MockServer
from mockserver.domain.lifecycle import Outcome
from mockserver.domain.snapshot import plain
from mockserver.domain.store import INDEXES, SCHEDULER_STATE, SETTINGS, TABLES, Store

PACKAGE = Path(__file__).resolve().parent.parent / "mockserver"
#: What a store holds besides its state: its lock, clock, id source and reset listeners.
MACHINERY = {"lock", "clock", "ids", "reset_listeners"}
#: Methods that add to or remove from a dict, list, deque or set.
MUTATORS = {
    "append", "appendleft", "extend", "extendleft", "insert", "setdefault", "update", "pop",
    "popleft", "popitem", "remove", "clear", "add", "discard",
}  # fmt: skip
#: ``heapq`` functions that change the heap given as their first argument.
HEAP_WRITES = {"heappush", "heappop", "heappushpop", "heapreplace", "heapify"}


def test_every_attribute_of_a_store_is_declared() -> None:
    state = set(vars(Store())) - MACHINERY
    declared = set(TABLES) | set(INDEXES) | set(SETTINGS) | set(SCHEDULER_STATE)
    assert state == declared


def test_every_index_belongs_to_a_table() -> None:
    assert set(INDEXES.values()) <= set(TABLES)


def _populated() -> MockServer:
    """A fake with at least one row in every table."""
    server = MockServer(strict=True)
    api = Api(server, server.store.create_tenant())
    export = api.create_export()
    api.post("/_mock/clock/advance/", json={"seconds": 2 * 3600})  # scheduled runs and their log lines
    backfill = api.post(
        f"/batch_exports/{export['id']}/backfills/",
        json={"start_at": "2026-01-05T08:00:00Z", "end_at": "2026-01-05T09:00:00Z"},
    )
    assert backfill.status_code == 201, backfill.json
    download = api.post(
        "/file_download_batch_exports/",
        json={
            "file": {"format": "JSONLines"},
            "model": "events",
            "data_interval_start": "2026-01-05T10:00:00Z",
            "data_interval_end": "2026-01-05T11:00:00Z",
        },
    )
    assert download.status_code == 202, download.json
    api.post("/_mock/clock/advance/", json={"seconds": 600})  # the download completes: files
    server.plan_outcomes(export["id"], [Outcome("Failed", "boom")])
    server.backend.file_downloads.plan_outcomes(api.tenant.project_id, [Outcome("TimedOut")])
    assert not server.errors
    return server


def _rows(table: Any) -> list[Any]:
    return list(table.values()) if isinstance(table, Mapping) else list(table)


def _values(tree: Any) -> Iterator[Any]:
    """Every dict and list inside a JSON value, the value itself included."""
    yield tree
    children = tree.values() if isinstance(tree, dict) else tree if isinstance(tree, list) else ()
    for child in children:
        yield from _values(child)


def _shows(state: Any, row: Any) -> bool:
    """Whether ``row`` (plain) appears in the state: a dict with at least its items, or an equal value."""
    if isinstance(row, dict):
        return any(isinstance(v, dict) and all(v.get(k) == x for k, x in row.items()) for v in _values(state))
    return any(v == row for v in _values(state))


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_state_shows_every_row_of_every_table(table: str) -> None:
    server = _populated()
    rows = _rows(getattr(server.store, table))
    assert rows, f"populate {table} in _populated() so that this test checks it"

    state = Api(server, server.store.create_tenant()).get("/_mock/state/").json

    missing = [plain(row) for row in rows if not _shows(state, plain(row))]
    assert missing == []


def test_the_state_shows_the_settings() -> None:
    state = Store().snapshot()
    assert state["progression"] == {"start_after": 30.0, "finish_after": 150.0}
    assert state["limits"]["concurrent_backfills"] == 10


def test_a_files_bytes_are_shown_as_their_size() -> None:
    server = _populated()
    [project] = server.store.snapshot()["organizations"][0]["projects"]
    [file] = project["download_files"]
    stored = server.store.download_files[file["id"]]
    assert file["content"] == f"<{len(stored.content)} bytes>"


# -- ownership, checked on the source ----------------------------------------------------


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _writes(tree: ast.AST, *, in_store: bool = False) -> Iterator[tuple[int, str]]:
    """``(line, attribute)`` of every write to a store's table or index: ``store.runs[k] = …``,
    ``del store.logs[0]``, ``self.store.runs.append(…)``, ``heapq.heappush(store.events, …)``,
    ``store.event_seq += 1``. Inside the store itself, ``self`` is the store."""
    names = set(TABLES) | set(INDEXES) | set(SCHEDULER_STATE)

    def store_like(node: ast.expr) -> bool:
        """``store``, ``….store`` (and ``self`` in the store): ``backend.runs`` is a service, not a table."""
        if isinstance(node, ast.Name):
            return node.id == "store" or (in_store and node.id == "self")
        return isinstance(node, ast.Attribute) and node.attr == "store"

    def table(node: ast.AST) -> str | None:
        if isinstance(node, ast.Attribute) and node.attr in names and store_like(node.value):
            return node.attr
        return None

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.Delete, ast.AugAssign, ast.AnnAssign)):
            targets = list(node.targets) if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if (name := table(target.value if isinstance(target, ast.Subscript) else target)) is not None:
                    yield node.lineno, name
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        changed = node.func.value if node.func.attr in MUTATORS else None
        if node.func.attr in HEAP_WRITES and node.args:
            changed = node.args[0]
        if changed is not None and (name := table(changed)):
            yield node.lineno, name


def _owner(name: str) -> str:
    table = INDEXES.get(name, name)
    return TABLES.get(table) or SCHEDULER_STATE[table]


def test_only_a_tables_owner_writes_it_or_its_indexes() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        in_store = module == "mockserver.domain.store"
        tree = ast.parse(path.read_text(), str(path))
        # The store creates every table and index empty (``_init_state``, run by ``reset()`` too).
        creating = {
            line
            for node in ast.walk(tree)
            if in_store and isinstance(node, ast.FunctionDef) and node.name == "_init_state"
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
        }
        for line, name in _writes(tree, in_store=in_store):
            if module != _owner(name) and line not in creating:
                found.append(f"{module}:{line} writes {name} (owner: {_owner(name)})")
    assert found == []


def test_the_ownership_check_sees_every_kind_of_write() -> None:
    source = (
        "store.runs[k] = r\ndel x.store.logs[0]\nstore.files_by_run.setdefault(k, []).append(f)\n"
        "self.store.events = []\nstore.event_seq += 1\nself.runs = Runs()\nbackend.batch_exports.update(e)\n"
        "heapq.heappush(store.events, e)\n"
    )
    assert sorted(_writes(ast.parse(source))) == [
        (1, "runs"), (2, "logs"), (3, "files_by_run"), (4, "events"), (5, "event_seq"), (8, "events")
    ]  # fmt: skip
    assert list(_writes(ast.parse("self.runs[k] = r"), in_store=True)) == [(1, "runs")]
    assert list(_writes(ast.parse("self.runs[k] = r"))) == []


def test_a_tenant_reads_back_as_create_tenant_made_it() -> None:
    store = Store()
    made = store.create_tenant(scopes=["batch_export:read"], feature_flags=["hogql-batch-exports"], profile="current")
    store.create_api_key(made.project_id, ["batch_export:read"])  # a restricted key is not the tenant's
    assert store.tenant(made.organization_id) == made
    assert store.tenant("no-such-organization") is None
