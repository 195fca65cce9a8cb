"""Rules of the code base that keep the fake deterministic and layered, checked on its source.

* Only ``mockserver/clock.py`` reads the wall clock and only ``mockserver/ids.py`` owns
  randomness: no ``datetime.now()``, ``time.time()``, ``uuid.uuid4()``, unseeded
  ``random`` and the like anywhere else, so one ``--seed`` fixes every response.
* ``mockserver/domain/`` knows nothing of HTTP: it never imports werkzeug or
  ``mockserver.http``.
* No import circle, not even under ``TYPE_CHECKING`` or inside a function: the layers
  (``clock``/``ids``/``errors`` → ``domain`` → ``http`` → ``server``/``cli``/plugin)
  only ever point one way.
* Handlers get the domain services, never the store: the PostHog API's handlers and
  the serializers never touch a ``store``, and the control plane uses only the store's
  public methods, never its tables.

The checks read the syntax tree rather than grepping text, so ``store.ids.uuid4()`` (the
seeded source) and ``random.Random(seed)`` (a seeded generator) are not false alarms,
while ``from uuid import uuid4 as make_id; make_id()`` is still caught.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mockserver"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)

#: Calls that read the wall clock or an unseeded source of randomness.
NONDETERMINISTIC = {
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
    "time.time", "time.time_ns", "time.monotonic", "time.monotonic_ns", "time.perf_counter",
    "time.perf_counter_ns", "uuid.uuid1", "uuid.uuid4", "os.urandom", "os.getrandom",
    "faker.Faker.seed", "builtins.hash",
}  # fmt: skip
#: Where some of them are the point.
ALLOWED = {
    "clock.py": {"datetime.datetime.now", "time.monotonic"},
    "ids.py": set(),
}
#: The contract suite is a client of real servers: its one module that reads real time and randomness.
ALLOWED_IN_CONTRACT = {"time.perf_counter", "time.monotonic", "os.urandom"}


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, path: Path) -> Iterator[tuple[ast.stmt, str, str | None, str | None]]:
    """Every import anywhere in the module (functions and ``TYPE_CHECKING`` blocks included),
    as (node, absolute module, imported name or ``None``, local alias or ``None``)."""
    module_name = _module_name(path)
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, None, alias.asname
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # from ..http import app → mockserver.http
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            for alias in node.names:
                yield node, module, alias.name, alias.asname


def _aliases(tree: ast.AST, path: Path) -> dict[str, str]:
    """Local name → what it refers to: ``dt`` → ``datetime.datetime``, ``uuid4`` → ``uuid.uuid4``."""
    names = {"hash": "builtins.hash"}
    for _node, module, name, asname in _imports(tree, path):
        if name is None:  # import a.b [as c]
            names[asname or module.split(".")[0]] = module if asname else module.split(".")[0]
        elif name != "*":  # from a import b [as c]
            names[asname or name] = f"{module}.{name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``datetime.now`` → ``datetime.datetime.now`` when ``datetime`` is the class."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _unseeded_random(call: ast.Call, aliases: dict[str, str]) -> bool:
    return _dotted(call.func, aliases) == "random.Random" and not call.args and not call.keywords


def _violations(path: Path) -> list[str]:
    """Every use (a call or a mere reference, such as ``now=time.time``) of a forbidden source."""
    tree = ast.parse(path.read_text(), str(path))
    aliases = _aliases(tree, path)
    allowed = ALLOWED.get(path.name, set()) if path.parent == PACKAGE else set()
    if _relative(path) == "mockserver/contract/wallclock.py":
        allowed = ALLOWED_IN_CONTRACT
    where = _relative(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _unseeded_random(node, aliases) and path.name != "ids.py":
            found.append(f"{where}:{node.lineno}: random.Random() without a seed")
        if not isinstance(node, (ast.Attribute, ast.Name)):
            continue
        name = _dotted(node, aliases)
        if name is None:
            continue
        if name in NONDETERMINISTIC and name not in allowed:
            found.append(f"{where}:{node.lineno}: {name}")
        elif name.startswith("random.") and name != "random.Random":
            # The module-level functions share one unseeded generator; random.Random(seed) is fine.
            found.append(f"{where}:{node.lineno}: {name} (the shared, unseeded generator)")
        elif name.startswith("secrets."):
            found.append(f"{where}:{node.lineno}: {name}")
    for node, module, name, _asname in _imports(tree, path):
        if module == "random" and name not in (None, "Random"):
            found.append(f"{where}:{node.lineno}: from random import {name}")
        if module == "secrets":
            found.append(f"{where}:{node.lineno}: import secrets")
    return sorted(set(found), key=found.index)


def test_the_sources_are_found() -> None:
    names = {_relative(p) for p in SOURCES}
    assert {"mockserver/clock.py", "mockserver/ids.py", "mockserver/domain/store.py"} <= names


def test_only_the_clock_and_the_id_source_touch_time_and_randomness() -> None:
    violations = [v for path in SOURCES for v in _violations(path)]
    assert violations == []


def test_the_domain_never_imports_http() -> None:
    offending = [
        f"{_relative(path)}: imports {module}"
        for path in SOURCES
        if path.is_relative_to(PACKAGE / "domain")
        for _node, module, _name, _asname in _imports(ast.parse(path.read_text()), path)
        if module.split(".")[0] == "werkzeug" or module == "mockserver.http" or module.startswith("mockserver.http.")
    ]
    assert offending == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from datetime import datetime\ndatetime.now()", ["x.py:2: datetime.datetime.now"]),
        ("import datetime\ndatetime.datetime.now(datetime.UTC)", ["x.py:2: datetime.datetime.now"]),
        ("from datetime import datetime as dt\ndt.utcnow()", ["x.py:2: datetime.datetime.utcnow"]),
        ("import time\ntime.time()", ["x.py:2: time.time"]),
        ("import time\ndef f(now=time.time): ...", ["x.py:2: time.time"]),
        ("from uuid import uuid4 as make_id\nmake_id()", ["x.py:2: uuid.uuid4"]),
        ("import uuid\nuuid.uuid4()", ["x.py:2: uuid.uuid4"]),
        ("from faker import Faker\nFaker.seed(1)", ["x.py:2: faker.Faker.seed"]),
        ("import os\nos.urandom(8)", ["x.py:2: os.urandom"]),
        ("import secrets\nsecrets.token_hex()", ["x.py:2: secrets.token_hex", "x.py:1: import secrets"]),
        ("import random\nrandom.randint(1, 2)", ["x.py:2: random.randint (the shared, unseeded generator)"]),
        ("import random\nrandom.Random()", ["x.py:2: random.Random() without a seed"]),
        ("from random import choice", ["x.py:1: from random import choice"]),
        ("hash('x')", ["x.py:1: builtins.hash"]),
        ("import random\nrandom.Random(7).random()", []),
        ("self.ids.uuid4()\nstore.ids.random.randint(1, 2)", []),
        ("import time\ntime.sleep(1)", []),
        ("from random import Random\nRandom(3)", []),
    ],
)
def test_the_checker_catches_what_it_should_and_nothing_else(
    tmp_path: Path, source: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "mockserver"
    package.mkdir()
    monkeypatch.setattr(f"{__name__}.PACKAGE", package)
    path = package / "x.py"
    path.write_text(source)
    assert _violations(path) == [f"mockserver/{v}" for v in expected]


#: What the control plane may use of the store: its public methods, never its tables.
STORE_API = {
    "create_tenant", "create_api_key", "add_project", "reset", "snapshot", "clock", "progression", "lock",
    "has_project", "has_api_key", "project_integrations",
}  # fmt: skip
HANDLERS = PACKAGE / "http" / "handlers"


def _store_uses(path: Path) -> Iterator[tuple[int, str | None]]:
    """``(line, attribute)`` for ``….store.attribute``; ``(line, None)`` for a bare ``….store``."""
    tree = ast.parse(path.read_text(), str(path))
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "store":
            yield node.lineno, node.attr
        elif isinstance(node, ast.Attribute) and node.attr == "store" and id(node) not in inner:
            yield node.lineno, None


#: Handler modules of the fake's own routes (``/_mock/``, ``/``, ``/api/schema/``): they work on the store.
CONTROL_PLANE_MODULES = ("control.py", "home.py")


def test_api_handlers_and_serializers_never_touch_the_store() -> None:
    sources = [p for p in sorted(HANDLERS.glob("*.py")) if p.name not in CONTROL_PLANE_MODULES]
    sources.append(PACKAGE / "http" / "serialize.py")
    found = [f"{_relative(path)}:{line}" for path in sources for line, _attr in _store_uses(path)]
    assert found == []


def test_the_control_plane_uses_only_the_stores_public_methods() -> None:
    path = HANDLERS / "control.py"
    # A bare ``plane.store`` is fine: it is handed to domain functions (``outcomes.plan_outcomes``).
    found = [
        f"{_relative(path)}:{line}: store.{attr}" for line, attr in _store_uses(path) if attr and attr not in STORE_API
    ]
    assert found == []


def test_the_store_check_sees_reads_and_bare_uses(tmp_path: Path) -> None:
    path = tmp_path / "x.py"
    path.write_text("a = ctx.store.runs\nb = plane.store.reset()\nc = f(backend.store)\n")
    assert list(_store_uses(path)) == [(1, "runs"), (2, "reset"), (3, None)]


# -- no import circles ------------------------------------------------------------------------


def _import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports, counting every import: at the top, inside
    functions and under ``TYPE_CHECKING`` (a circle there is still a circle of ideas).

    ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``;
    importing a submodule is not counted as importing its parent packages.
    """
    modules = {_module_name(path): path for path in SOURCES}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for _node, module, imported, _asname in _imports(ast.parse(path.read_text()), path):
            target = f"{module}.{imported}" if imported and f"{module}.{imported}" in modules else module
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_package_has_no_import_circle() -> None:
    graph = _import_graph()
    assert "mockserver.domain.store" in graph["mockserver.domain.engine"]  # the graph is really read
    assert _circles(graph) == []


def test_the_circle_finder_finds_circles_and_only_them() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert _circles(graph) == [["a", "b", "c"]]
