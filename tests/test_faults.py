"""Planned faults (``/_mock/faults/``) and latency (``/_mock/latency/``).

A fault answers the next N matching requests with a status, without running the
operation, then the operation recovers. It is checked where DRF checks throttles:
after routing, authentication, the scope check and the project lookup. Latency delays
responses by wall seconds, slept outside the store's lock; these tests inject a
recording sleeper instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from support import Api, JsonResponse, call, error

from mockserver import MockServer
from mockserver.http.faults import Faults, Latency, default_fault_body

THROTTLED_1S = error("throttled", "Request was throttled. Expected available in 1 second.", type="throttled_error")
SERVER_ERROR = error("error", "A server error occurred.", type="server_error")
UNAVAILABLE = error("service_unavailable", "Service temporarily unavailable, try again later.", type="server_error")
NOOP_EXPORT = {"name": "my export", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}


def control(server: MockServer, method: str, path: str, **kwargs: Any) -> JsonResponse:
    return call(server, method, path, **kwargs)


def add_fault(server: MockServer, **body: Any) -> dict[str, Any]:
    response = control(server, "POST", "/_mock/faults/", json=body)
    assert response.status_code == 201, response.json
    fault: dict[str, Any] = response.json
    return fault


# -- answering and recovering ----------------------------------------------------------------


def test_429_twice_with_retry_after_then_the_operation_recovers(server: MockServer, api: Api) -> None:
    fault = add_fault(server, operation_id="batch_exports_list_2", status=429, times=2, headers={"Retry-After": "1"})
    assert fault == {
        "id": 1,
        "operation_id": "batch_exports_list",
        "status": 429,
        "times": 2,
        "remaining": 2,
        "headers": {"Retry-After": "1"},
        "body": None,
        "project_id": None,
        "api_key": None,
        "drop": False,
        "delay": 0.0,
    }
    for _ in range(2):
        response = api.get("/batch_exports/")
        assert (response.status_code, response.json) == (429, THROTTLED_1S)
        assert response.headers["Retry-After"] == "1"
    recovered = api.get("/batch_exports/")
    assert (recovered.status_code, recovered.json["count"]) == (200, 0)
    assert "Retry-After" not in recovered.headers
    assert control(server, "GET", "/_mock/faults/").json == {"count": 0, "results": []}


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (500, {}, SERVER_ERROR),
        (503, {}, UNAVAILABLE),
        (429, {}, error("throttled", "Request was throttled.", type="throttled_error")),
        (
            429,
            {"retry-after": "12.2"},
            error("throttled", "Request was throttled. Expected available in 13 seconds.", type="throttled_error"),
        ),
        (400, {}, error("invalid_input", "Invalid input.")),
        (401, {}, error("authentication_failed", "Incorrect authentication credentials.", type="authentication_error")),
        (404, {}, error("not_found", "Not found.", type="invalid_request")),
        (405, {}, error("method_not_allowed", 'Method "POST" not allowed.', type="invalid_request")),
        (409, {}, error("conflict", "Conflict.", type="invalid_request")),
        (502, {}, SERVER_ERROR),
    ],
)
def test_default_bodies_are_postHogs_for_the_status(
    server: MockServer, api: Api, status: int, headers: dict[str, str], expected: dict[str, Any]
) -> None:
    add_fault(server, operation_id="batch_exports_create", status=status, headers=headers)
    response = api.post("/batch_exports/", json=NOOP_EXPORT)
    assert (response.status_code, response.json) == (status, expected)
    assert default_fault_body(status, "POST", headers) == expected


def test_a_planned_500_is_not_a_bug_of_the_fake(server: MockServer, api: Api) -> None:
    add_fault(server, operation_id="batch_exports_create", status=500)
    assert api.post("/batch_exports/", json=NOOP_EXPORT).status_code == 500
    assert server.errors == []


def test_a_custom_body_and_headers_are_answered_as_given(server: MockServer, api: Api) -> None:
    add_fault(
        server,
        operation_id="batch_exports_retrieve",
        status=502,
        body={"message": "upstream timed out"},
        headers={"X-Cache": "MISS"},
    )
    response = api.get("/batch_exports/018f3c2a-9b4e-7000-a8d1-5e3f6c7b2a91/")
    assert (response.status_code, response.json, response.headers["X-Cache"]) == (
        502,
        {"message": "upstream timed out"},
        "MISS",
    )


def test_faults_chain_in_the_order_they_were_planned(server: MockServer, api: Api) -> None:
    add_fault(server, operation_id="batch_exports_list", status=429, times=2)
    add_fault(server, operation_id="batch_exports_list", status=503)
    statuses = [api.get("/batch_exports/").status_code for _ in range(4)]
    assert statuses == [429, 429, 503, 200]


# -- state is untouched ------------------------------------------------------------------------


def test_a_faulted_create_changes_nothing_and_draws_no_id(api: Api) -> None:
    server = api.server
    before = server.store.snapshot()
    server.faults.add("batch_exports_create", 503)
    assert api.post("/batch_exports/", json=NOOP_EXPORT).status_code == 503
    assert server.store.snapshot() == before
    created = api.post("/batch_exports/", json=NOOP_EXPORT)
    assert created.status_code == 201

    # The same requests without the fault give the same id: the faulted one drew nothing.
    twin = MockServer(strict=True)
    twin_api = Api(twin, twin.store.create_tenant())
    assert twin_api.post("/batch_exports/", json=NOOP_EXPORT).json["id"] == created.json["id"]


def test_faulted_deletes_and_pauses_leave_the_export_as_it_was(server: MockServer, api: Api) -> None:
    export = api.create_export()
    server.faults.add("batch_exports_destroy", 500)
    server.faults.add("batch_exports_pause_create", 503)
    assert api.delete(f"/batch_exports/{export['id']}/").status_code == 500
    assert api.post(f"/batch_exports/{export['id']}/pause/").status_code == 503
    assert api.get(f"/batch_exports/{export['id']}/").json == export


# -- which requests a fault matches -----------------------------------------------------------


def test_any_spelling_matches_every_url_of_the_operation(server: MockServer, api: Api) -> None:
    add_fault(server, operation_id="environments_batch_exports_list", status=503, times=3)
    org = f"/api/organizations/{api.tenant.organization_id}/batch_exports/"
    env = f"/api/environments/{api.tenant.project_id}/batch_exports/"
    assert [api.get(path).status_code for path in ("/batch_exports/", env, org, org)] == [503, 503, 503, 200]


def test_without_an_operation_every_postHog_operation_is_faulted_but_not_the_control_plane(
    server: MockServer, api: Api
) -> None:
    add_fault(server, status=503, times=2)
    assert control(server, "GET", "/_mock/clock/").status_code == 200
    assert api.get("/batch_exports/").status_code == 503
    assert api.post("/batch_exports/", json=NOOP_EXPORT).status_code == 503
    assert api.get("/batch_exports/").status_code == 200


def test_a_fault_never_hides_routing_authentication_or_tenancy(server: MockServer, api: Api) -> None:
    server.faults.add(None, 503)
    unknown = api.get("/batch_exports/x/y/z/")
    assert (unknown.status_code, unknown.json) == (
        404,
        error("not_found", "Endpoint not found.", type="invalid_request"),
    )
    no_key = api.get("/batch_exports/", headers={})
    assert no_key.status_code == 401
    bad_key = api.get("/batch_exports/", headers={"Authorization": "Bearer phx_nope"})
    assert bad_key.status_code == 401
    read_only = server.store.create_tenant(scopes=["batch_export:read"])
    missing_scope = Api(server, read_only).post("/batch_exports/", json=NOOP_EXPORT)
    assert missing_scope.status_code == 403
    foreign = api.get(f"/api/projects/{read_only.project_id}/batch_exports/")
    assert foreign.status_code == 403
    wrong_method = api.request("PUT", "/batch_exports/")
    assert wrong_method.status_code == 405
    assert [f.remaining for f in server.faults.active()] == [1]  # none of them used the fault up
    assert api.get("/batch_exports/").status_code == 503


def test_a_fault_comes_before_body_validation_as_throttling_does(server: MockServer, api: Api) -> None:
    server.faults.add("batch_exports_create", 429)
    assert api.post("/batch_exports/", json={"interval": "fortnightly"}).status_code == 429
    assert api.post("/batch_exports/", json={"interval": "fortnightly"}).status_code == 400


def test_a_fault_scoped_to_a_project_leaves_other_tenants_alone(server: MockServer, api: Api) -> None:
    other = Api(server, server.store.create_tenant())
    add_fault(server, operation_id="batch_exports_list", status=503, project_id=api.tenant.project_id)
    assert other.get("/batch_exports/").status_code == 200
    org = f"/api/organizations/{other.tenant.organization_id}/batch_exports/"
    assert other.get(org).status_code == 200
    assert api.get(f"/api/organizations/{api.tenant.organization_id}/batch_exports/").status_code == 503


def test_a_fault_scoped_to_a_key_leaves_other_keys_alone(server: MockServer, api: Api) -> None:
    other = Api(server, server.store.create_tenant())
    server.faults.add("batch_exports_list", 429, api_key=api.tenant.api_key)
    assert other.get("/batch_exports/").status_code == 200
    assert api.get("/batch_exports/").status_code == 429


def test_list_and_clear_by_tenant(server: MockServer, api: Api) -> None:
    other = server.store.create_tenant()
    server.faults.add("batch_exports_list", 429, times=3, project_id=api.tenant.project_id)
    server.faults.add("batch_exports_list", 429, project_id=other.project_id)
    api.get("/batch_exports/")
    mine = control(server, "GET", "/_mock/faults/", query_string={"project_id": api.tenant.project_id}).json
    assert [(f["id"], f["remaining"]) for f in mine["results"]] == [(1, 2)]
    cleared = control(server, "DELETE", "/_mock/faults/", query_string={"project_id": api.tenant.project_id})
    assert (cleared.status_code, cleared.data) == (204, b"")
    assert [f.scope.project_id for f in server.faults.active()] == [other.project_id]
    assert control(server, "DELETE", "/_mock/faults/").status_code == 204
    assert server.faults.active() == []


# -- refusing bad plans ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"operation_id": "batch_exports_explode", "status": 500}, ("invalid_choice", "operation_id")),
        ({"operation_id": "mock_reset_create", "status": 500}, ("invalid_choice", "operation_id")),
        ({"operation_id": "batch_exports_list"}, ("required", "status")),
        ({"status": 199}, ("min_value", "status")),
        ({"status": 503, "drop": True}, ("invalid_input", "status")),
        ({"drop": "yes"}, ("invalid_input", "drop")),
        ({"delay": 301}, ("max_value", "delay")),
        ({"delay": -1}, ("min_value", "delay")),
        ({"status": 600}, ("max_value", "status")),
        ({"status": 500, "times": 0}, ("min_value", "times")),
        ({"status": 500, "headers": {"Retry-After": 1}}, ("invalid_input", "headers__Retry-After")),
        ({"status": "500"}, ("invalid_input", "status")),
    ],
)
def test_invalid_faults_are_400(server: MockServer, body: dict[str, Any], expected: tuple[str, str]) -> None:
    response = control(server, "POST", "/_mock/faults/", json=body)
    assert response.status_code == 400
    assert (response.json["type"], response.json["code"], response.json["attr"]) == ("validation_error", *expected)
    assert server.faults.active() == []


def test_an_unknown_operation_names_itself() -> None:
    server = MockServer()
    response = control(server, "POST", "/_mock/faults/", json={"operation_id": "nope", "status": 500})
    assert response.json == error("invalid_choice", '"nope" is not a valid choice.', "operation_id")
    # A near miss says what it may have meant (operationIds end in their method's verb, as DRF names them).
    near = control(server, "POST", "/_mock/faults/", json={"operation_id": "batch_exports_pause", "status": 500})
    assert near.json["detail"].startswith(
        '"batch_exports_pause" is not a valid choice. Did you mean batch_exports_pause_create'
    )


def test_the_python_api_refuses_what_http_refuses() -> None:
    faults = Faults({"batch_exports_list"})
    with pytest.raises(ValueError, match="not an operation"):
        faults.add("batch_exports_explode", 500)
    with pytest.raises(ValueError, match="200 and 599"):
        faults.add("batch_exports_list", 199)
    with pytest.raises(ValueError, match="a status, drop or a delay"):
        faults.add("batch_exports_list", None)
    with pytest.raises(ValueError, match="no status"):
        faults.add("batch_exports_list", 500, drop=True)
    with pytest.raises(ValueError, match="at least once"):
        faults.add("batch_exports_list", 500, times=0)


# -- isolation ---------------------------------------------------------------------------------


def test_two_fakes_never_share_faults_or_latency() -> None:
    a, b = MockServer(), MockServer()
    a.faults.add("batch_exports_list", 500)
    a.latency.set(1.0)
    assert (b.faults.active(), b.latency.rules()) == ([], [])


def test_reset_clears_faults_and_latency_and_restarts_fault_ids(server: MockServer) -> None:
    server.faults.add("batch_exports_list", 500)
    server.latency.set(1.0)
    assert control(server, "POST", "/_mock/reset/").status_code == 204
    assert (server.faults.active(), server.latency.rules()) == ([], [])
    assert server.faults.add("batch_exports_list", 500).id == 1


# -- latency -----------------------------------------------------------------------------------


def slow_server() -> tuple[MockServer, Api, list[float]]:
    slept: list[float] = []
    server = MockServer(strict=True, sleep=slept.append)
    return server, Api(server, server.store.create_tenant()), slept


def test_latency_delays_one_operation_by_its_seconds() -> None:
    server, api, slept = slow_server()
    created = control(server, "POST", "/_mock/latency/", json={"operation_id": "batch_exports_list_2", "seconds": 0.2})
    assert (created.status_code, created.json) == (
        201,
        {"operation_id": "batch_exports_list", "seconds": 0.2, "project_id": None, "api_key": None},
    )
    api.get("/batch_exports/")
    api.post("/batch_exports/", json=NOOP_EXPORT)
    api.get(f"/api/environments/{api.tenant.project_id}/batch_exports/")
    assert slept == [0.2, 0.2]


def test_the_most_specific_rule_wins_and_the_control_plane_is_never_slow() -> None:
    server, api, slept = slow_server()
    server.latency.set(0.5)
    server.latency.set(0.0, operation="batch_exports_list")
    server.latency.set(2.0, operation="batch_exports_create", project_id=api.tenant.project_id)
    server.latency.set(1.0, operation="batch_exports_create")
    other = Api(server, server.store.create_tenant())
    api.get("/batch_exports/")
    api.post("/batch_exports/", json=NOOP_EXPORT)
    other.post("/batch_exports/", json=NOOP_EXPORT)
    api.get("/batch_exports/018f3c2a-9b4e-7000-a8d1-5e3f6c7b2a91/")
    control(server, "GET", "/_mock/state/")
    assert slept == [2.0, 1.0, 0.5]
    listed = control(server, "GET", "/_mock/latency/").json
    assert listed["count"] == 4


def test_a_rule_for_the_same_target_replaces_the_old_one_and_clear_drops_them() -> None:
    server, api, slept = slow_server()
    server.latency.set(0.5, operation="batch_exports_list")
    server.latency.set(0.1, operation="batch_exports_list")
    api.get("/batch_exports/")
    assert slept == [0.1]
    assert control(server, "DELETE", "/_mock/latency/").status_code == 204
    api.get("/batch_exports/")
    assert slept == [0.1]


def test_faulted_and_failed_responses_are_delayed_too() -> None:
    server, api, slept = slow_server()
    server.latency.set(0.3, operation="batch_exports_create")
    server.faults.add("batch_exports_create", 503)
    api.post("/batch_exports/", json=NOOP_EXPORT)
    api.post("/batch_exports/", json={})
    assert slept == [0.3, 0.3]
    assert [e.latency for e in server.journal.entries(operation="batch_exports_create")] == [0.3, 0.3]


def test_latency_is_slept_outside_the_store_lock() -> None:
    """While one response waits, another request is served to completion."""
    served: list[int] = []

    def sleeper(seconds: float) -> None:
        worker = threading.Thread(target=lambda: served.append(api.get("/batch_exports/").status_code))
        worker.start()
        worker.join(timeout=5)
        assert not worker.is_alive(), "the other request was blocked by the delayed one"

    server = MockServer(sleep=sleeper)
    api = Api(server, server.store.create_tenant())
    server.latency.set(1.0, operation="batch_exports_create")
    assert api.post("/batch_exports/", json=NOOP_EXPORT).status_code == 201
    assert served == [200]


def test_the_default_sleeper_really_waits() -> None:
    server = MockServer()
    api = Api(server, server.store.create_tenant())
    server.latency.set(0.05)
    started = time.monotonic()
    api.get("/batch_exports/")
    assert time.monotonic() - started >= 0.05


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"seconds": -1}, ("min_value", "seconds")),
        ({"seconds": 301}, ("max_value", "seconds")),
        ({}, ("required", "seconds")),
        ({"seconds": 1, "operation_id": "nope"}, ("invalid_choice", "operation_id")),
    ],
)
def test_invalid_latency_rules_are_400(server: MockServer, body: dict[str, Any], expected: tuple[str, str]) -> None:
    response = control(server, "POST", "/_mock/latency/", json=body)
    assert response.status_code == 400
    assert (response.json["code"], response.json["attr"]) == expected


def test_latency_python_api_validates_too() -> None:
    latency = Latency({"batch_exports_list"}, sleep=lambda _s: None)
    with pytest.raises(ValueError, match="between 0 and 300"):
        latency.set(301)
    with pytest.raises(ValueError, match="not an operation"):
        latency.set(1, operation="mock_reset_create")


# -- the pytest plugin: faults for one test's tenant on the shared, real server -----------------


def test_the_plugin_scopes_faults_to_the_test_s_own_project(posthog_mock: Any) -> None:
    import requests

    posthog_mock.fault("batch_exports_list", 503, headers={"Retry-After": "2"})
    posthog_mock.latency(0.0, "batch_exports_list")
    neighbour = posthog_mock.app.store.create_tenant()
    listing = f"{posthog_mock.url}/api/projects/{neighbour.project_id}/batch_exports/"
    neighbour_response = requests.get(listing, headers={"Authorization": f"Bearer {neighbour.api_key}"}, timeout=5)
    assert neighbour_response.status_code == 200
    mine = requests.get(f"{posthog_mock.project_url}/batch_exports/", headers=posthog_mock.headers, timeout=5)
    assert (mine.status_code, mine.headers["Retry-After"], mine.json()) == (503, "2", UNAVAILABLE)
    (entry,) = posthog_mock.journal("batch_exports_list")
    assert (entry.status, entry.fault_id is not None) == (503, True)


def test_a_fault_or_latency_for_a_project_or_key_that_does_not_exist_is_refused(server: MockServer) -> None:
    """It would never apply: a typo in the scope is a 400, not a fault that silently never fires."""
    for path, body in (
        ("/_mock/faults/", {"operation_id": "batch_exports_list", "status": 503, "project_id": 99999}),
        ("/_mock/latency/", {"seconds": 1, "project_id": 99999}),
    ):
        response = call(server, "POST", path, json=body)
        assert (response.status_code, response.json["code"], response.json["attr"]) == (
            400, "does_not_exist", "project_id",
        )  # fmt: skip
    unknown_key = call(server, "POST", "/_mock/faults/", json={"status": 503, "api_key": "phx_nobody"})
    assert (unknown_key.status_code, unknown_key.json["attr"]) == (400, "api_key")
    assert call(server, "GET", "/_mock/faults/").json["count"] == 0
