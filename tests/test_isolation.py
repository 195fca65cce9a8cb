"""The isolation matrix: every PostHog operation, for every way a key can be the wrong one.

Tenant B owns an export with runs, a backfill and a finished file download. For each
operation the fake serves, and each of

- tenant A's key on B's URL (B's project or organization, B's objects);
- tenant A's key on A's URL naming B's objects;
- a read-only key (writes only);
- a key scoped to another project of its organization;
- no key; a malformed key; the key of a tenant that was reset away,

the answer is PostHog's status and error, nothing of B appears in the body or the
headers, and the state is exactly what it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from support import JsonResponse, call
from werkzeug.test import Client

from mockserver import MockServer
from mockserver.domain.models import ApiKey
from mockserver.http.spec import Operation, load_spec

HOUR = 3600
OPERATIONS = sorted(
    (op for op in load_spec().operations.values() if op.level != "control"), key=lambda op: op.operation_id
)
NOOP_EXPORT = {"name": "B's private export", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}
FILE_DOWNLOAD = {
    "file": {"format": "JSONLines"}, "model": "events",
    "data_interval_start": "2026-01-04T00:00:00Z", "data_interval_end": "2026-01-05T00:00:00Z",
}  # fmt: skip
#: A body that would be valid for most writes: isolation must not depend on the body.
ANY_BODY = {"name": "x", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}


@dataclass
class Owner:
    """One tenant's URL values and the strings that must never reach another tenant."""

    key: str
    project_id: int
    organization_id: str
    objects: dict[str, str] = field(default_factory=dict)

    @property
    def secrets(self) -> list[str]:
        return [self.key, self.organization_id, *self.objects.values()]


@dataclass
class World:
    server: MockServer
    a: Owner
    b: Owner
    read_only_key: str
    scoped_key: str


def build_owner(server: MockServer) -> Owner:
    tenant = server.store.create_tenant()
    owner = Owner(tenant.api_key, tenant.project_id, tenant.organization_id)
    auth = {"Authorization": f"Bearer {tenant.api_key}"}
    base = f"/api/projects/{tenant.project_id}"
    export = call(server, "POST", f"{base}/batch_exports/", json=NOOP_EXPORT, headers=auth).json
    call(server, "POST", "/_mock/clock/advance/", json={"seconds": 3 * HOUR})
    runs = call(server, "GET", f"{base}/batch_exports/{export['id']}/runs/", headers=auth).json["results"]
    backfill = call(
        server, "POST", f"{base}/batch_exports/{export['id']}/backfills/",
        json={"start_at": "2026-01-05T00:00:00Z", "end_at": "2026-01-05T01:00:00Z"}, headers=auth,
    ).json  # fmt: skip
    download = call(server, "POST", f"{base}/file_download_batch_exports/", json=FILE_DOWNLOAD, headers=auth).json
    call(server, "POST", "/_mock/clock/advance/", json={"seconds": 600})
    owner.objects = {
        "export": export["id"], "run": runs[0]["id"], "backfill": backfill["backfill_id"], "download": download["id"],
    }  # fmt: skip
    return owner


@pytest.fixture(scope="module")
def world() -> World:
    server = MockServer(strict=True)
    a = build_owner(server)
    b = build_owner(server)
    store = server.store
    org_a = a.organization_id
    second = store.add_project(org_a)
    store.api_keys["phx_readonly0000000000000000000000000000"] = ApiKey(
        "phx_readonly0000000000000000000000000000", ["batch_export:read"], [org_a], a.project_id
    )
    store.api_keys["phx_scopedelsewhere000000000000000000000"] = ApiKey(
        "phx_scopedelsewhere000000000000000000000", ["*"], [org_a], second.id, scoped_teams=[second.id]
    )
    assert not server.errors, server.errors
    return World(server, a, b, "phx_readonly0000000000000000000000000000", "phx_scopedelsewhere000000000000000000000")


def url(op: Operation, owner: Owner, objects: Owner) -> str:
    """``op``'s path for ``owner``'s project or organization, naming ``objects``' objects."""
    ids = objects.objects
    path = op.path.replace("{project_id}", str(owner.project_id)).replace("{organization_id}", owner.organization_id)
    if "/file_download_batch_exports/" in path:
        path = path.replace("{id}", ids["download"]).replace("{part}", "0")
    elif "/runs/{id}" in path:
        path = path.replace("{id}", ids["run"])
    elif "/backfills/{id}" in path:
        path = path.replace("{id}", ids["backfill"])
    return path.replace("{batch_export_id}", ids["export"]).replace("{id}", ids["export"])


def names_an_object(op: Operation) -> bool:
    return "{id}" in op.path or "{batch_export_id}" in op.path


def send(server: MockServer, op: Operation, path: str, key: str | None) -> JsonResponse:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    body = ANY_BODY if op.has_body else None
    response = Client(server, response_wrapper=JsonResponse).open(path, method=op.method, json=body, headers=headers)
    assert isinstance(response, JsonResponse)
    return response


def exchange(world: World, op: Operation, path: str, key: str | None) -> JsonResponse:
    """Send the request; check that the state did not change and nothing of B came back."""
    server = world.server
    before = server.store.snapshot()
    response = send(server, op, path, key)
    assert server.store.snapshot() == before, "the state changed"
    shown = response.data.decode("utf-8", "replace") + repr(response.headers)
    for secret in world.b.secrets:
        assert secret not in shown, f"{secret!r} of tenant B in the response"
    assert not server.errors, server.errors
    return response


def expect(response: JsonResponse, status: int, code: str, detail: str | None = None) -> None:
    assert response.status_code == status, response.data[:300]
    body = response.json
    assert body["code"] == code and body["attr"] is None, body
    if detail is not None:
        assert body["detail"] == detail, body


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_a_key_of_another_tenant_on_its_urls(world: World, op: Operation) -> None:
    response = exchange(world, op, url(op, world.b, world.b), world.a.key)
    detail = "You don't have access to the project." if op.level == "team" else None
    expect(response, 403, "permission_denied", detail)


@pytest.mark.parametrize("op", [op for op in OPERATIONS if names_an_object(op)], ids=lambda op: op.operation_id)
def test_own_urls_naming_another_tenants_objects(world: World, op: Operation) -> None:
    response = exchange(world, op, url(op, world.a, world.b), world.a.key)
    if op.path.endswith(("/runs/", "/backfills/")) and op.method == "GET":
        # PostHog filters these lists by the URL's project: another tenant's export has none here.
        assert (response.status_code, response.json["results"]) == (200, [])
        return
    assert response.status_code == 404, response.data[:300]
    assert response.json["type"] == "invalid_request" and response.json["code"] == "not_found"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_a_read_only_key(world: World, op: Operation) -> None:
    if op.scope == "batch_export:read":
        # Reads pass the scope check (what they answer then is another suite's business).
        assert exchange(world, op, url(op, world.a, world.a), world.read_only_key).status_code not in (401, 403)
        return
    response = exchange(world, op, url(op, world.a, world.a), world.read_only_key)
    expect(response, 403, "permission_denied", "API key missing required scope 'batch_export:write'")


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_a_key_scoped_to_another_project(world: World, op: Operation) -> None:
    response = exchange(world, op, url(op, world.a, world.a), world.scoped_key)
    if op.level == "team":
        detail = f"API key does not have access to the requested project: ID {world.a.project_id}."
    else:
        detail = "API keys with scoped projects are only supported on project-based endpoints."
    expect(response, 403, "permission_denied", detail)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
@pytest.mark.parametrize(
    ("key", "code"),
    [(None, "not_authenticated"), ("not-a-key", "authentication_failed"), ("phx_" + "0" * 40, "authentication_failed"),
     ("phx_AbC/../../etc", "authentication_failed")],
)  # fmt: skip
def test_no_key_or_a_malformed_one(world: World, op: Operation, key: str | None, code: str) -> None:
    expect(exchange(world, op, url(op, world.b, world.b), key), 401, code)


@pytest.fixture(scope="module")
def reset_world() -> tuple[MockServer, Owner]:
    server = MockServer(strict=True)
    gone = build_owner(server)
    server.store.reset()
    return server, gone


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_the_key_of_a_tenant_that_was_reset_away(reset_world: tuple[MockServer, Owner], op: Operation) -> None:
    server, gone = reset_world
    before = server.store.snapshot()
    response = send(server, op, url(op, gone, gone), gone.key)
    expect(response, 401, "authentication_failed", "Personal API key found in request Authorization header is invalid.")
    assert server.store.snapshot() == before
    assert not server.errors


def test_the_matrix_covers_every_operation() -> None:
    assert len(OPERATIONS) >= 60
    assert all(re.fullmatch(r"/api/(projects|environments|organizations)/.*", op.path) for op in OPERATIONS)
