"""``serve --state-file``: keep a standalone fake's state across restarts.

The state is everything a client created (tenants, keys, exports, runs, backfills, logs,
file downloads, planned outcomes), the scheduler's pending events, the id source (so new
ids never repeat old ones), the virtual time, and the planned faults and latency rules.
The request journal is not kept.

Saving writes a temporary file beside the target, flushes it to disk and renames it over
the target: a crash mid-save leaves the previous file whole. The file is a pickle with a
header naming its format; like any pickle it is trusted input, so load only files this
tool wrote.

>>> import tempfile, pathlib
>>> from mockserver import MockServer
>>> server = MockServer()
>>> tenant = server.store.create_tenant()
>>> path = pathlib.Path(tempfile.mkdtemp()) / "state.pickle"
>>> save_state(server, path)
>>> restored = MockServer()
>>> load_state(restored, path).isoformat()
'2026-01-05T12:00:00+00:00'
>>> restored.store.api_keys.keys() == server.store.api_keys.keys()
True
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from mockserver.domain.tables import ShardedDict
from mockserver.http.app import MockServer

__all__ = ["FORMAT", "StateFileError", "apply_state", "load_state", "read_state", "save_state"]

#: Bumped whenever the shape of the saved state changes; older files are refused by name.
FORMAT = "posthog-batch-exports-mock/state/1"
#: Store attributes that belong to the running process, not to the state.
_TRANSIENT = frozenset({"lock", "clock", "reset_listeners"})


class StateFileError(RuntimeError):
    """The state file cannot be read (wrong format, or written by another version)."""


def save_state(
    server: MockServer,
    path: str | os.PathLike[str],
    *,
    scenarios: Sequence[str] = (),
    printed_tenant: str | None = None,
) -> None:
    """Write the fake's state to ``path`` atomically.

    ``scenarios``: the scenarios whose tenants the state holds (``serve --scenario`` loads
    only the others on its next start from the file). ``printed_tenant``: the organization
    id of the tenant ``serve --print-tenant`` printed, which its next start prints again
    instead of making another.
    """
    target = Path(path)
    store = server.store
    with store.lock:
        state = {
            "format": FORMAT,
            "now": store.clock.now(),
            "store": {k: v for k, v in vars(store).items() if k not in _TRANSIENT},
            "faults": server.faults.active(),
            "latency": server.latency.rules(),
            "scenarios": list(scenarios),
            "printed_tenant": printed_tenant,
        }
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The saved state, checked for its format and its parts.

    Raises:
        StateFileError: the file cannot be read, or is not a whole state file of this
            version (a damaged file fails in unpickling in many ways: each is this error).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise StateFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        state = pickle.loads(data)
    except Exception as exc:  # noqa: BLE001 - a damaged pickle raises whatever its bytes lead to
        raise StateFileError(f"{path}: not a state file of this tool ({type(exc).__name__}: {exc})"[:300]) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise StateFileError(f"{path}: state format {found!r}, this version reads {FORMAT!r}")
    parts = {"store": dict, "faults": list, "latency": list, "now": datetime}
    broken = [name for name, kind in parts.items() if not isinstance(state.get(name), kind)]
    if not isinstance(state.get("printed_tenant"), str | None):  # absent from older files
        broken.append("printed_tenant")
    if not broken:
        broken = _damaged_parts(state)
    if broken:
        raise StateFileError(f"{path}: a damaged state file ({', '.join(broken)} missing or unreadable)")
    return state


def _damaged_parts(state: dict[str, Any]) -> list[str]:
    """The parts of the state that are not what a store holds there: each table must be of
    its kind (a file of an older version may lack a table, which then starts empty)."""
    from mockserver.domain.store import Store
    from mockserver.http.faults import Fault, LatencyRule

    fresh = vars(Store())
    broken = []
    for name, value in state["store"].items():
        if name in _TRANSIENT or name not in fresh:
            broken.append(f"store.{name}")  # never saved, or no part of a store
            continue
        expected = fresh[name]
        if expected is None:
            continue  # a part that is empty by default: any value
        # Tables saved before they were sharded are plain dicts (``apply_state`` shards them).
        kinds: tuple[type, ...] = (ShardedDict, dict) if isinstance(expected, ShardedDict) else (type(expected),)
        if not isinstance(value, kinds):
            broken.append(f"store.{name}")
    broken += [f"faults[{i}]" for i, f in enumerate(state["faults"]) if not isinstance(f, Fault)]
    broken += [f"latency[{i}]" for i, r in enumerate(state["latency"]) if not isinstance(r, LatencyRule)]
    return broken


def load_state(server: MockServer, path: str | os.PathLike[str]) -> datetime:
    """Replace the fake's state with the one saved at ``path``; returns the saved virtual time.

    The caller decides the clock: the saved time is where the fake's time stood (a clock
    set to it, or later, lets the scheduler catch up on what fell due meanwhile).
    """
    return apply_state(server, read_state(path))


def apply_state(server: MockServer, state: dict[str, Any]) -> datetime:
    """:func:`load_state` for a state already read with :func:`read_state`."""
    store = server.store
    with store.lock:
        vars(store).update(state["store"])
        # A file saved before these tables were sharded holds them as dicts.
        for name in ("runs", "logs_by_instance"):
            table = getattr(store, name)
            if not isinstance(table, ShardedDict):
                setattr(store, name, ShardedDict(table.items()))
        server.faults.reset()
        for fault in state["faults"]:
            server.faults.restore(fault)
        server.backend.engine.tally_backfills()  # counts a file of an older version did not keep
        server.latency.reset()
        for rule in state["latency"]:
            server.latency.set(rule.seconds, operation=rule.operation, project_id=rule.scope.project_id,
                               api_key=rule.scope.api_key)  # fmt: skip
    saved_now: datetime = state["now"]
    return saved_now
