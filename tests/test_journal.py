"""The request journal (``/_mock/journal/``, ``server.journal``).

Every request is recorded with its response (404 routes, auth failures and the control
plane included), except reads and clears of the journal itself; the journal keeps the
last N entries; secrets keep a short prefix only.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import Api, JsonResponse, call, error

from mockserver import MockServer
from mockserver.http.journal import HeaderPicker, Journal, redact

NOOP_EXPORT = {"name": "my export", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}


def control(server: MockServer, method: str, path: str, **kwargs: Any) -> JsonResponse:
    return call(server, method, path, **kwargs)


def journal(server: MockServer, **query: Any) -> dict[str, Any]:
    response = control(server, "GET", "/_mock/journal/", query_string=query)
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json
    return body


def test_an_entry_records_the_whole_exchange(server: MockServer, api: Api) -> None:
    created = api.post("/batch_exports/", json=NOOP_EXPORT, query_string={"x": ["1", "2"]})
    body = journal(server)
    assert (body["count"], body["max_entries"]) == (1, 1000)
    (entry,) = body["results"]
    key = api.tenant.api_key
    assert entry == {
        "id": 1,
        "timestamp": "2026-01-05T12:00:00Z",
        "method": "POST",
        "path": f"/api/projects/{api.tenant.project_id}/batch_exports/",
        "query": {"x": ["1", "2"]},
        "operation_id": "batch_exports_create_2",
        "operation": "batch_exports_create",
        "project_id": api.tenant.project_id,
        "organization_id": None,
        "status": 201,
        "request_headers": {
            "Host": "localhost",
            "Authorization": f"Bearer {key[:8]}…",
            "Content-Type": "application/json",
            "Content-Length": str(len(json.dumps(NOOP_EXPORT))),
        },
        "request_body": NOOP_EXPORT,
        "request_size": len(json.dumps(NOOP_EXPORT)),
        "response_headers": {
            "Content-Type": "application/json",
            "Allow": "GET, POST, HEAD, OPTIONS",
            "Content-Length": str(len(created.data)),
        },
        "response_body": created.json,
        "response_size": len(created.data),
        "fault_id": None,
        "latency": 0.0,
    }


def test_errors_unknown_routes_and_the_control_plane_are_recorded_but_journal_reads_are_not(
    server: MockServer, api: Api
) -> None:
    api.get("/nowhere/")
    api.get("/batch_exports/", headers={})
    control(server, "POST", "/_mock/clock/advance/", json={"seconds": 60})
    journal(server)
    control(server, "DELETE", "/_mock/journal/?nothing")  # clears, and is not recorded either
    api.get(f"/api/organizations/{api.tenant.organization_id}/batch_exports/")
    (org_read,) = journal(server)["results"]
    assert (org_read["id"], org_read["operation_id"], org_read["organization_id"], org_read["project_id"]) == (
        4,
        "batch_exports_list",
        api.tenant.organization_id,
        None,
    )
    assert org_read["timestamp"] == "2026-01-05T12:01:00Z"  # the virtual clock, not the wall clock


def test_what_is_recorded_before_the_clear(server: MockServer, api: Api) -> None:
    api.get("/nowhere/")
    api.get("/batch_exports/", headers={})
    control(server, "POST", "/_mock/clock/advance/", json={"seconds": 60})
    entries = journal(server)["results"]
    assert [(e["operation_id"], e["status"], e["project_id"]) for e in entries] == [
        (None, 404, None),
        ("batch_exports_list_2", 401, None),
        ("mock_clock_advance_create", 200, None),
    ]
    assert entries[1]["response_body"] == error(
        "not_authenticated", "Authentication credentials were not provided.", type="authentication_error"
    )


def test_secrets_keep_a_prefix_only(server: MockServer, api: Api) -> None:
    key = api.tenant.api_key
    api.get("/batch_exports/", headers={}, query_string={"personal_api_key": key})
    api.post("/batch_exports/", headers={}, json={**NOOP_EXPORT, "personal_api_key": key})
    dumped = json.dumps(journal(server))
    assert key not in dumped
    first, second = server.journal.entries()
    assert first.to_dict()["query"] == {"personal_api_key": [f"{key[:8]}…"]}
    assert (first.status, second.status) == (200, 201)
    assert second.request_json["personal_api_key"] == redact(key) == f"{key[:8]}…"


def test_the_journal_is_bounded_and_ids_keep_counting() -> None:
    server = MockServer(journal_size=3)
    api = Api(server, server.store.create_tenant())
    for _ in range(5):
        api.get("/batch_exports/")
    body = journal(server)
    assert (body["count"], body["max_entries"]) == (3, 3)
    assert [e["id"] for e in body["results"]] == [3, 4, 5]
    assert (len(server.journal), server.journal.last_id) == (3, 5)


def test_a_zero_sized_journal_records_nothing() -> None:
    server = MockServer(journal_size=0)
    api = Api(server, server.store.create_tenant())
    api.get("/batch_exports/")
    assert journal(server) == {"count": 0, "max_entries": 0, "results": []}


def test_filters_by_operation_project_method_status_since_and_limit(server: MockServer, api: Api) -> None:
    other = Api(server, server.store.create_tenant())
    export = api.create_export()
    api.get("/batch_exports/")
    other.get("/batch_exports/")
    api.get(f"/api/environments/{api.tenant.project_id}/batch_exports/")
    api.get(f"/batch_exports/{export['id']}/")
    api.get("/batch_exports/018f3c2a-9b4e-7000-a8d1-5e3f6c7b2a91/")

    def ids(**query: Any) -> list[int]:
        return [e["id"] for e in journal(server, **query)["results"]]

    assert ids() == [1, 2, 3, 4, 5, 6]
    assert ids(operation_id="environments_batch_exports_list") == [2, 3, 4]
    assert ids(operation_id="batch_exports_list", project_id=api.tenant.project_id) == [2, 4]
    assert ids(method="post") == [1]
    assert ids(status=404) == [6]
    assert ids(since=4) == [5, 6]
    assert ids(limit=2) == [5, 6]
    limited = journal(server, operation_id="batch_exports_list", limit=1)
    assert (limited["count"], [e["id"] for e in limited["results"]]) == (3, [4])
    assert ids(operation_id="mock_state_retrieve") == []
    assert [e.id for e in server.journal.entries(operation="batch_exports_retrieve_2", status=200)] == [5]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"operation_id": "nope"}, error("invalid_choice", '"nope" is not a valid choice.', "operation_id")),
        ({"limit": 0}, error("min_value", "Ensure this value is greater than or equal to 1.", "limit")),
        ({"limit": "all"}, error("invalid_input", "A valid integer is required.", "limit")),
        ({"project_id": "x"}, error("invalid_input", "A valid integer is required.", "project_id")),
    ],
)
def test_invalid_filters_are_400(server: MockServer, query: dict[str, Any], expected: Any) -> None:
    response = control(server, "GET", "/_mock/journal/", query_string=query)
    assert (response.status_code, response.json) == (400, expected)


def test_python_filters_refuse_unknown_operations(server: MockServer) -> None:
    with pytest.raises(ValueError, match="not an operation"):
        server.journal.entries(operation="batch_exports_explode")


def test_faulted_responses_carry_the_fault_id(server: MockServer, api: Api) -> None:
    fault = server.faults.add("batch_exports_create", 503)
    api.post("/batch_exports/", json=NOOP_EXPORT)
    (entry,) = server.journal.entries()
    assert (entry.status, entry.fault_id, entry.response_json["code"]) == (503, fault.id, "service_unavailable")


def test_non_json_and_empty_bodies(server: MockServer, api: Api) -> None:
    api.post("/batch_exports/", data="name=x", content_type="text/plain")
    export = api.create_export()
    api.delete(f"/batch_exports/{export['id']}/")
    text, _created, deleted = server.journal.entries()
    assert (text.status, text.request_json) == (415, "name=x")
    assert (deleted.status, deleted.response_json, deleted.response_size) == (204, None, 0)


def test_clear_keeps_counting_and_reset_restarts(server: MockServer, api: Api) -> None:
    api.get("/batch_exports/")
    assert control(server, "DELETE", "/_mock/journal/").status_code == 204
    api.get("/batch_exports/")
    assert [e.id for e in server.journal] == [2]
    server.store.reset()
    assert len(server.journal) == 0
    control(server, "GET", "/_mock/clock/")
    assert [e.id for e in server.journal] == [1]


def test_two_fakes_never_share_a_journal() -> None:
    a, b = MockServer(), MockServer()
    control(a, "GET", "/_mock/clock/")
    assert (len(a.journal), len(b.journal)) == (1, 0)


def test_a_journal_needs_a_non_negative_size() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Journal(-1)


def test_an_exchange_is_redacted_when_first_read_and_outside_the_journals_lock(
    server: MockServer, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Capturing only appends; the first reader redacts, without holding up the requests being captured."""
    journal = server.journal
    postgres = {"host": "db.example.com", "port": 5432, "database": "dwh", "schema": "public",
                "table_name": "events", "user": "loader", "password": "hunter2-very-secret"}  # fmt: skip
    # Refused (a Postgres export needs an integration), but its body is journaled all the same.
    api.post("/batch_exports/", json={**NOOP_EXPORT, "destination": {"type": "Postgres", "config": postgres}})
    redact_calls = []
    redact = journal._scrubbed

    def redact_unlocked(exchange: Any) -> Any:
        assert journal._lock.acquire(blocking=False), "redacting while holding the journal's lock"
        journal._lock.release()
        redact_calls.append(exchange)
        return redact(exchange)

    monkeypatch.setattr(journal, "_scrubbed", redact_unlocked)
    first = journal.entries(operation="batch_exports_create")[-1]
    again = journal.entries(operation="batch_exports_create")[-1]
    assert len(redact_calls) == 1 and again is first  # redacted once, kept redacted
    assert json.loads(first.request_data or b"")["destination"]["config"]["password"] == "[redacted]"


def test_the_journal_keeps_a_requests_headers_whatever_else_the_server_put_in_its_environ() -> None:
    """granian copies the process environment into every environ; only headers reach the journal."""
    pick = HeaderPicker(limit=2)
    process = {"PATH": "/bin", "HOME": "/root", "LANG": "C", "wsgi.version": (1, 0)}
    first = {**process, "HTTP_HOST": "h", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "",
             "HTTP_CONTENT_LENGTH": "2"}  # fmt: skip
    assert pick(first) == (("CONTENT_TYPE", "application/json"), ("HTTP_HOST", "h"))
    # The same names again, with the CONTENT_* values swapped: each is judged by its value anew.
    second = {**process, "HTTP_X_API_KEY": "k", "CONTENT_TYPE": "", "CONTENT_LENGTH": "2"}
    assert pick(second) == (("CONTENT_LENGTH", "2"), ("HTTP_X_API_KEY", "k"))
    assert pick({**process, "HTTP_PATH": "p"}) == (("HTTP_PATH", "p"),)  # beyond the limit, still right
