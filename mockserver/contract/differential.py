"""Phase ``differential``: the same deterministic scenarios against two targets, every difference reported.

This is how a user compares the fake with real PostHog (or two versions of one
implementation) in one command. Each scenario is a list of :class:`Step` s; ``{export}``
and ``{backfill}`` in a path stand for the ids each target handed out, so both targets
get the same questions about their own objects. For every step the two answers are
compared on:

* the status code;
* for an error, its ``code`` and ``attr`` (the ``detail`` wording is left alone: it is prose);
* the response's shape: which keys, at every depth, and the JSON type of each value, with
  ids, timestamps, URLs and names normalised away (:func:`shape`).

>>> shape({"id": "0190…", "paused": False, "latest_runs": [], "created_at": "2026-01-05T00:00:00Z"})
{'created_at': 'str', 'id': 'str', 'latest_runs': [], 'paused': False}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.contract.report import PhaseResult, Violation
from mockserver.contract.target import Client, Response
from mockserver.contract.workspace import Workspace

__all__ = ["SCENARIOS", "Step", "run_differential", "shape"]

#: Keys whose values are compared as well as their type: they carry the contract's meaning.
_MEANINGFUL = frozenset({"paused", "interval", "status", "type", "code", "attr", "model", "cancelled"})


@dataclass(frozen=True)
class Step:
    """One request of a scenario: ``{export}``/``{backfill}`` are filled with this target's ids."""

    method: str
    path: str
    body: Any = None
    #: Which key sends it: ``"rw"`` (the read-write key), ``"none"`` or ``"ro"`` (read-only).
    key: str = "rw"
    #: Remember the answer's ``id`` (or ``backfill_id``) under this name.
    save: str | None = None


def _export(name: str, **overrides: Any) -> dict[str, Any]:
    return {"name": name, "interval": "hour", "destination": {"type": "NoOp", "config": {}}, **overrides}


#: The scenarios, by name. Paths are relative to ``/api/projects/{project}``.
SCENARIOS: dict[str, list[Step]] = {
    "export-lifecycle": [
        Step("POST", "/batch_exports/", _export("{name}"), save="export"),
        Step("GET", "/batch_exports/{export}/"),
        Step("PATCH", "/batch_exports/{export}/", {"name": "{name}-renamed"}),
        Step("POST", "/batch_exports/{export}/pause/"),
        Step("POST", "/batch_exports/{export}/pause/"),
        Step("GET", "/batch_exports/{export}/"),
        Step("POST", "/batch_exports/{export}/unpause/"),
        Step("GET", "/batch_exports/{export}/logs/"),
        Step("GET", "/batch_exports/{export}/runs/"),
        Step("GET", "/batch_exports/{export}/backfills/"),
        Step("DELETE", "/batch_exports/{export}/"),
        Step("GET", "/batch_exports/{export}/"),
        Step("POST", "/batch_exports/{export}/pause/"),
    ],
    "export-validation": [
        Step("POST", "/batch_exports/", {"interval": "hour", "destination": {"type": "NoOp", "config": {}}}),
        Step("POST", "/batch_exports/", {"name": "{name}", "interval": "hour"}),
        Step("POST", "/batch_exports/", _export("{name}", interval="monthly")),
        Step("POST", "/batch_exports/", _export("{name}", destination={"type": "Carrier pigeon", "config": {}})),
        Step("POST", "/batch_exports/", _export("{name}", model="nothing")),
        Step("POST", "/batch_exports/", [1, 2, 3]),
        Step("POST", "/batch_exports/", _export("{name}"), save="export"),
        Step("PATCH", "/batch_exports/{export}/", {"interval": "monthly"}),
        Step("PATCH", "/batch_exports/{export}/", {"paused": "perhaps"}),
        Step("DELETE", "/batch_exports/{export}/"),
    ],
    "backfills": [
        Step("POST", "/batch_exports/", _export("{name}"), save="export"),
        Step(
            "POST",
            "/batch_exports/{export}/backfills/",
            {"start_at": "2026-01-05T03:00:00+00:00", "end_at": "2026-01-05T00:00:00+00:00"},
        ),
        Step("POST", "/batch_exports/{export}/backfills/", {"end_at": "2026-01-05T00:00:00+00:00"}),
        Step(
            "POST",
            "/batch_exports/{export}/backfills/",
            {"start_at": "2026-01-05T00:00:00+00:00", "end_at": "2026-01-05T02:00:00+00:00"},
            save="backfill",
        ),
        Step("GET", "/batch_exports/{export}/backfills/{backfill}/"),
        Step("GET", "/batch_exports/{export}/runs/01890000-0000-7000-8000-000000000000/"),
        Step("DELETE", "/batch_exports/{export}/"),
    ],
    "auth": [
        Step("GET", "/batch_exports/", key="none"),
        Step("POST", "/batch_exports/", _export("{name}"), key="none"),
        Step("POST", "/batch_exports/", _export("{name}"), save="export"),
        Step("POST", "/batch_exports/{export}/pause/", key="ro"),
        Step("DELETE", "/batch_exports/{export}/", key="ro"),
        Step("GET", "/batch_exports/", key="ro"),
        Step("DELETE", "/batch_exports/{export}/"),
    ],
    "file-downloads": [
        Step("GET", "/file_download_batch_exports/"),
        Step("GET", "/file_download_batch_exports/01890000-0000-7000-8000-000000000000/"),
    ],
}


def shape(value: Any, key: str | None = None) -> Any:
    """The structure of a JSON value: keys and types, with meaningful values kept."""
    if isinstance(value, dict):
        return {k: shape(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0], key)] if value else []
    if key in _MEANINGFUL and (value is None or isinstance(value, (str, bool, int))):
        return value
    if value is None:
        return None
    return {bool: "bool", int: "number", float: "number", str: "str"}.get(type(value), type(value).__name__)


class _Side:
    """One target's run of a scenario: its clients and the ids it handed out."""

    def __init__(self, workspace: Workspace) -> None:
        creds = workspace.credentials()
        self.workspace = workspace
        self.creds = creds
        self.clients = {
            "rw": workspace.client(creds.api_key),
            "none": workspace.client(None),
            "ro": workspace.client(creds.read_only_key) if creds.read_only_key else None,
        }
        self.saved: dict[str, str] = {}

    def send(self, step: Step, name: str) -> Response | None:
        client: Client | None = self.clients[step.key]
        if client is None:
            return None
        prefix = f"/api/projects/{self.creds.project_id}"
        path = prefix + step.path.format(**self.saved)
        body = _fill(step.body, name)
        response = client.request(step.method, path, json_body=body)
        if step.save and response.status in (200, 201) and isinstance(response.json, dict):
            saved = response.json.get("id") or response.json.get("backfill_id")
            if saved:
                self.saved[step.save] = str(saved)  # an export made here is remembered by the workspace
        if step.method == "DELETE" and response.status == 204:
            self.workspace.forget(path)
        return response


def _fill(body: Any, name: str) -> Any:
    if isinstance(body, str):
        return body.replace("{name}", name)
    if isinstance(body, dict):
        return {k: _fill(v, name) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, name) for v in body]
    return body


def run_differential(target: Workspace, reference: Workspace, result: PhaseResult) -> None:
    """Replay :data:`SCENARIOS` against both workspaces; one property per scenario."""
    left, right = _Side(target), _Side(reference)
    missing = [side for side, run in (("the target", left), ("the reference", right)) if run.clients["ro"] is None]
    for scenario, steps in SCENARIOS.items():
        if missing and any(step.key == "ro" for step in steps):
            # Said, not hidden: the scenario still passes or fails on its other steps.
            result.skipped(
                f"same-as-reference.{scenario} (read-only steps)",
                f"no read-only key for {' and '.join(missing)} (--read-only-api-key, --reference-read-only-api-key)",
            )
        prop = f"same-as-reference.{scenario}"
        name = target.name()
        differences: list[str] = []
        shown: list[str] = []
        for number, step in enumerate(steps, 1):
            if "{" in step.path and any(
                f"{{{k}}}" in step.path and k not in left.saved for k in ("export", "backfill")
            ):
                differences.append(f"step {number}: {step.method} {step.path}: skipped, an earlier step failed")
                break
            if step.key == "ro" and (left.clients["ro"] is None or right.clients["ro"] is None):
                continue
            mine, theirs = left.send(step, name), right.send(step, name)
            if mine is None or theirs is None:
                continue
            found = compare(mine, theirs)
            if found:
                where = f"step {number}: {step.method} {step.path}"
                differences += [f"{where}: {d}" for d in found]
                shown.append(left.clients[step.key].history[-1].curl(left.creds.redact(left.creds.api_key)))  # type: ignore[union-attr]
        if differences:
            result.failed(
                Violation(
                    prop,
                    "the same statuses, error codes and shapes as the reference",
                    f"{len(differences)} difference(s)",
                    shown,
                    "\n".join(differences[:30]),
                )
            )
        else:
            result.passed(prop)


def compare(mine: Response, theirs: Response) -> list[str]:
    """The differences between two answers to the same request (empty: none that matter)."""
    if mine.status != theirs.status:
        return [f"status {mine.status} here, {theirs.status} on the reference"]
    a, b = mine.json, theirs.json
    if mine.status >= 400 and isinstance(a, dict) and isinstance(b, dict):
        return [
            f"error {key} {a.get(key)!r} here, {b.get(key)!r} on the reference"
            for key in ("type", "code", "attr")
            if a.get(key) != b.get(key)
        ]
    return [f"{path}: {x!r} here, {y!r} on the reference" for path, x, y in _diff(shape(a), shape(b), "$")]


def _diff(a: Any, b: Any, path: str) -> list[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(a) | set(b)):
            if key not in a:
                out.append((f"{path}.{key}", "(absent)", b[key]))
            elif key not in b:
                out.append((f"{path}.{key}", a[key], "(absent)"))
            else:
                out += _diff(a[key], b[key], f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if a and b:
            return _diff(a[0], b[0], f"{path}[0]")
        return []  # an empty list and a full one differ in data, not in shape
    if a == b or a is None or b is None:
        return []  # null where the other has a value is data, not shape
    return [(path, a, b)]
