"""Inputs at the edges answer PostHog-style 4xx, never a 500, and leave the fake working."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support import Api, error

from mockserver import MockServer
from mockserver.domain.dates import DATETIME_FORMAT_ERROR
from mockserver.http.context import Reply

HOUR = 3600


def test_advancing_the_clock_past_its_range_is_a_400_and_changes_nothing(api: Api) -> None:
    too_far = api.post("/_mock/clock/advance/", json={"seconds": 3e11})
    assert (too_far.status_code, too_far.json["code"], too_far.json["attr"]) == (400, "max_value", "seconds")
    # Over HTTP the clock moves at most a century at once; Python callers are not capped.
    api.server.store.clock.set(datetime(9999, 12, 30, tzinfo=UTC))
    past_9999 = api.post("/_mock/clock/advance/", json={"seconds": 10 * 24 * HOUR})
    assert (past_9999.status_code, past_9999.json) == (
        400,
        error("invalid_input", "The clock cannot go past the year 9999.", "seconds"),
    )
    assert api.get("/_mock/clock/").json == {"now": "9999-12-30T00:00:00Z"}
    assert api.get("/batch_exports/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/projects/1//batch_exports/", "/_mock//clock/", "//api/projects/1/batch_exports/"]
)
def test_a_doubled_slash_is_an_unknown_endpoint(api: Api, path: str) -> None:
    response = api.get(path)
    assert (response.status_code, response.json) == (
        404,
        error("not_found", "Endpoint not found.", type="invalid_request"),
    )


def test_a_datetime_before_year_one_in_utc_is_a_format_error(api: Api) -> None:
    response = api.post(
        "/batch_exports/",
        json={"name": "x", "interval": "hour", "destination": {"type": "NoOp", "config": {}},
              "start_at": "0001-01-01T00:00:00+01:00"},
    )  # fmt: skip
    assert (response.status_code, response.json) == (400, error("invalid_input", DATETIME_FORMAT_ERROR, "start_at"))
    export = api.create_export()
    logs = api.get(f"/batch_exports/{export['id']}/logs/", query_string={"after": "0001-01-01T00:00:00+01:00"})
    assert (logs.status_code, logs.json["attr"]) == (400, "after")


def test_relative_dates_beyond_the_calendar_are_ignored(api: Api) -> None:
    export = api.create_export()
    for after in ("-99999999d", "-9999y"):
        response = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"after": after})
        assert response.status_code == 200


def test_a_schedule_that_would_fire_after_year_9999_never_fires(api: Api) -> None:
    export = api.create_export(start_at="9999-12-31T23:30:00Z")
    assert api.post("/_mock/clock/advance/", json={"seconds": HOUR}).status_code == 200
    assert api.get(f"/batch_exports/{export['id']}/runs/").json["results"] == []


@pytest.mark.parametrize("project", ["²", "1" * 5000, "-1", "1.0"])
def test_project_ids_that_are_not_plain_integers_are_not_found(api: Api, project: str) -> None:
    response = api.get(f"/api/projects/{project}/batch_exports/")
    assert (response.status_code, response.json) == (
        404,
        error("not_found", "Project not found.", type="invalid_request"),
    )


def test_organization_lists_interleave_projects_by_creation_order(server: MockServer) -> None:
    tenant = server.store.create_tenant()
    second = server.store.add_project(tenant.organization_id)
    server.store.api_keys[tenant.api_key].current_team_id = tenant.project_id
    api = Api(server, tenant)
    created = []
    for project in (tenant.project_id, second.id, tenant.project_id, second.id):
        body = {"name": f"in {project}", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}
        created.append(api.post(f"/api/projects/{project}/batch_exports/", json=body).json["id"])
    listed = api.get(f"/api/organizations/{tenant.organization_id}/batch_exports/").json["results"]
    assert [e["id"] for e in listed] == created[::-1]


def test_the_journal_keeps_the_start_and_the_size_of_long_bodies(api: Api, server: MockServer) -> None:
    response = api.create_export(name="x" * (1 << 20))
    assert len(response["name"]) == 1 << 20
    (entry,) = server.journal.entries(operation="batch_exports_create")
    assert entry.request_size > 1 << 20 and len(entry.request_data or b"") == server.journal.max_body_bytes
    assert entry.response_size > 1 << 20 and len(entry.response_data or b"") == server.journal.max_body_bytes
    assert entry.request_json.endswith(f"… [truncated: {entry.request_size} bytes in all]")


def test_deleting_an_export_cancels_its_running_run_through_the_lifecycle(api: Api, server: MockServer) -> None:
    export = api.create_export()
    api.post("/_mock/clock/advance/", json={"seconds": HOUR + 60})
    (run,) = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    assert run["status"] == "Running"
    api.delete(f"/batch_exports/{export['id']}/")
    after = api.get(f"/batch_exports/{export['id']}/runs/{run['id']}/")
    assert after.json["status"] == "Cancelled"
    # Runs stay readable after a soft delete, their logs included: the newest line says why.
    logs = api.get(f"/batch_exports/{export['id']}/runs/{run['id']}/logs/").json["results"]
    assert (logs[0]["level"], logs[0]["message"]) == ("WARNING", "Batch export run was cancelled")


def test_a_response_the_spec_forbids_is_a_recorded_500_in_strict_mode() -> None:
    server = MockServer(strict=True)
    api = Api(server, server.store.create_tenant())
    server.handlers["batch_exports_list_2"] = lambda ctx: Reply(200, {"unexpected": True})
    response = api.get("/batch_exports/")
    assert (response.status_code, response.json["code"]) == (500, "contract_violation")
    assert "batch_exports_list_2 answered 200" in response.json["detail"]
    assert len(server.errors) == 1
    assert server.journal.entries()[-1].status == 500
