"""Phase ``auth``: every operation of the spec, without a key, with a bad key and with a read-only key.

Deterministic sweeps rather than random walks, because the set is small and must be
covered whole:

* ``auth.no-credentials`` — every operation answers 401 without ``Authorization``;
* ``auth.malformed-key`` — and 401 with a key that does not exist;
* ``auth.read-only`` — every operation that needs ``batch_export:write`` answers 403 to a
  read-only key, and the suite's export is unchanged afterwards;
* ``auth.read-only-reads`` — every list needing ``batch_export:read`` answers 200 to it;
* ``auth.scoped-projects`` — that key, restricted to the suite's project, is 403 on another
  project of the same organization, which the suite's own key reaches (control plane only:
  it makes the second project);
* ``error-body-shape`` — each of those refusals is ``{type, code, detail, attr}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mockserver.contract.model import error_shape_problem
from mockserver.contract.report import PhaseResult, Violation
from mockserver.contract.target import Client, Response
from mockserver.contract.workspace import Credentials, Workspace
from mockserver.http.spec import Operation, load_spec

__all__ = ["run_auth_phase"]

#: Stands for ids the sweep has no object for: authentication and scopes are checked before lookup.
_ABSENT_ID = "01890000-0000-7000-8000-000000000000"


def _operations(profile: str) -> list[Operation]:
    return sorted(
        (op for op in load_spec(profile=profile).operations.values() if op.level != "control"),
        key=lambda op: (op.path, op.method),
    )


def run_auth_phase(workspace: Workspace, result: PhaseResult) -> None:
    creds = workspace.credentials()
    api = workspace.client(creds.api_key)
    body = {"name": workspace.name(), "interval": "day", "destination": {"type": "NoOp", "config": {}}}
    created = api.post(f"/api/projects/{creds.project_id}/batch_exports/", body)
    if created.status != 201:
        result.error = f"could not create an export to sweep with: {created.status} {created.text[:200]}"
        return
    export_id = created.json["id"]
    export_path = f"/api/projects/{creds.project_id}/batch_exports/{export_id}/"
    before = api.get(export_path).json
    sweeps: list[tuple[str, Client, int, str, Callable[[Operation], bool]]] = [
        ("auth.no-credentials", workspace.client(None), 401, "not_authenticated", lambda op: True),
        (
            "auth.malformed-key",
            workspace.client("phx_thisKeyDoesNotExist0000000000000000000"),
            401,
            "authentication_failed",
            lambda op: True,
        ),
    ]
    if creds.read_only_key:
        ro = workspace.client(creds.read_only_key)
        sweeps.append(("auth.read-only", ro, 403, "permission_denied", lambda op: op.scope == "batch_export:write"))
    else:
        result.skipped("auth.read-only", "no --read-only-api-key given and no control plane to mint one")
    for prop, client, status, code, applies in sweeps:
        failures = [
            f
            for op in _operations(workspace.target.profile)
            if applies(op)
            for f in _check(client, op, creds, export_id, status, code)
        ]
        after = api.get(export_path).json
        if after != before:
            failures.append((f"the suite's export after the {prop} sweep", created, f"changed: {before} → {after}"))
            before = after
        _record(result, prop, failures, [k for k in (creds.api_key, creds.read_only_key) if k])
    if creds.read_only_key:
        ro = workspace.client(creds.read_only_key)
        listed = ro.get(f"/api/projects/{creds.project_id}/batch_exports/")
        if listed.status == 200:
            result.passed("auth.read-only-reads")
        else:
            result.failed(
                Violation(
                    "auth.read-only-reads",
                    "200 for a list with a read-only key",
                    f"{listed.status} {listed.text[:200]}",
                    [ro.history[-1].curl(creds.redact(creds.read_only_key))],
                )
            )
    _check_scoped_projects(workspace, creds, result)
    api.delete(export_path)
    workspace.forget(export_path)


def _check_scoped_projects(workspace: Workspace, creds: Credentials, result: PhaseResult) -> None:
    """A key restricted to one project (as minted) is refused another project of its organization."""
    prop = "auth.scoped-projects"
    control = workspace.control
    if control is None or not creds.read_only_key or not creds.organization_id:
        result.skipped(prop, "needs a second project in the organization, which only the control plane makes")
        return
    other = control.add_project(creds.organization_id)
    path = f"/api/projects/{other}/batch_exports/"
    owner = workspace.client(creds.api_key).get(path)
    reader = workspace.client(creds.read_only_key)
    refused = reader.get(path)
    problems = []
    if owner.status != 200:
        problems.append(f"the organization's own key: {owner.status} {owner.text[:160]}, not 200")
    if refused.status != 403 or error_shape_problem(refused.json) or refused.json["code"] != "permission_denied":
        problems.append(f"the restricted key: {refused.status} {refused.text[:160]}")
    if not problems:
        result.passed(prop)
        return
    result.failed(
        Violation(
            prop,
            f"403 permission_denied for a key restricted to project {creds.project_id}, 200 for the organization's key",
            "; ".join(problems),
            [reader.history[-1].curl(creds.redact(creds.read_only_key))],
        )
    )


def _check(
    client: Client, op: Operation, creds: Credentials, export_id: str, status: int, code: str
) -> list[tuple[str, Response, str]]:
    if "{organization_id}" in op.path and not creds.organization_id:
        return []
    values = {
        "project_id": str(creds.project_id),
        "organization_id": creds.organization_id or "",
        "id": export_id if op.path.count("{") <= 2 and "file_download" not in op.path else _ABSENT_ID,
        "batch_export_id": export_id,
        "part": "0",
    }
    path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), _ABSENT_ID), op.path)
    json_body: Any = {} if op.method in ("POST", "PATCH", "PUT") else None
    response = client.request(op.method, path, json_body=json_body)
    problems = []
    if response.status != status:
        problems.append(f"{response.status} {response.text[:160]}")
    else:
        shape = error_shape_problem(response.json)
        if shape:
            problems.append(f"error body: {shape}")
        elif response.json["code"] != code:
            problems.append(f"code {response.json['code']!r}, not {code!r}")
    return [(f"{op.method} {op.path}", response, p) for p in problems]


def _record(result: PhaseResult, prop: str, failures: list[tuple[str, Response, str]], secrets: list[str]) -> None:
    if not failures:
        result.passed(prop)
        return
    lines = [f"{where}: {problem}" for where, _response, problem in failures]
    expected = {
        "auth.no-credentials": "401 not_authenticated",
        "auth.malformed-key": "401 authentication_failed",
        "auth.read-only": "403 permission_denied",
    }[prop]
    result.failed(
        Violation(
            prop,
            f"{expected} with PostHog's error body for every operation",
            f"{len(failures)} operation(s) differ",
            detail="\n".join(lines[:20]),
        )
    )
