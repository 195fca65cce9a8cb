"""Planned run outcomes (``/_mock/outcomes/``) and lifecycle timings (``/_mock/progression/``).

An hourly export created at 12:00 fires at 13:00: its run is ``Starting`` at 13:00,
``Running`` 30 s later and ends 150 s after that (13:03:00) by default. A planned
outcome decides how that ending goes; the progression decides when it happens.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import Api, JsonResponse, call, error

from mockserver import MockServer
from mockserver.domain.lifecycle import RUN_TRANSITIONS, Outcome, Progression
from mockserver.domain.outcomes import OUTCOME_STATUSES
from mockserver.http.spec import load_spec

HOUR = 3600
UNKNOWN_ID = "018f3c2a-9b4e-7000-a8d1-5e3f6c7b2a91"


def control(server: MockServer, method: str, path: str, **kwargs: Any) -> JsonResponse:
    """A control-plane call with no credentials at all."""
    return call(server, method, path, **kwargs)


def advance(api: Api, seconds: float) -> None:
    assert api.post("/_mock/clock/advance/", json={"seconds": seconds}).status_code == 200


def runs(api: Api, export_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/batch_exports/{export_id}/runs/", query_string={"ordering": "data_interval_start"})
    assert response.status_code == 200
    results: list[dict[str, Any]] = response.json["results"]
    return results


def plan(server: MockServer, export_id: str, *outcomes: dict[str, Any]) -> JsonResponse:
    return control(server, "POST", "/_mock/outcomes/", json={"batch_export_id": export_id, "outcomes": list(outcomes)})


# -- planning over HTTP ----------------------------------------------------------------------


def test_planning_answers_201_with_the_whole_queue(server: MockServer, api: Api) -> None:
    export = api.create_export()
    first = plan(server, export["id"], {"status": "Failed", "latest_error": "S3 said no", "records_completed": 0})
    assert first.status_code == 201
    assert first.json == {
        "batch_export_id": export["id"],
        "outcomes": [{"status": "Failed", "latest_error": "S3 said no", "records_completed": 0}],
    }
    second = plan(server, export["id"], {"status": "TimedOut"})
    assert second.json["outcomes"] == [
        {"status": "Failed", "latest_error": "S3 said no", "records_completed": 0},
        {"status": "TimedOut", "latest_error": None, "records_completed": None},
    ]
    read = control(server, "GET", "/_mock/outcomes/", query_string={"batch_export_id": export["id"]})
    assert (read.status_code, read.json) == (200, second.json)


def test_the_next_runs_end_as_planned_then_complete_normally(server: MockServer, api: Api) -> None:
    export = api.create_export(interval="hour")
    plan(
        server,
        export["id"],
        {"status": "Failed", "latest_error": "Access Denied"},
        {"status": "Completed", "records_completed": 42},
    )
    advance(api, 3 * HOUR + 200)
    first, second, third = runs(api, export["id"])
    assert (first["status"], first["latest_error"], first["records_completed"]) == ("Failed", "Access Denied", 0)
    assert first["finished_at"] == "2026-01-05T13:03:00Z"
    assert (second["status"], second["records_completed"], second["latest_error"]) == ("Completed", 42, None)
    assert third["status"] == "Completed" and third["records_completed"] > 0
    queue = control(server, "GET", "/_mock/outcomes/", query_string={"batch_export_id": export["id"]})
    assert queue.json == {"batch_export_id": export["id"], "outcomes": []}
    failure_logs = api.get(f"/batch_exports/{export['id']}/logs/", query_string={"level": "ERROR"}).json["results"]
    assert [e["message"] for e in failure_logs] == ["Batch export run failed: Access Denied"]


def test_a_failure_planned_without_an_error_gets_one_of_its_destination(server: MockServer, api: Api) -> None:
    """PostHog's workers store the exception that failed a run; a plan that names none gets a realistic one."""
    postgres = {"type": "Postgres", "config": {"database": "dw"}, "integration": api.integration("postgresql")}
    export = api.create_export(interval="hour", destination=postgres)
    plan(server, export["id"], {"status": "FailedRetryable"}, {"status": "TimedOut"})
    advance(api, 2 * HOUR + 200)
    failed, timed_out = runs(api, export["id"])
    expected = 'connection to server failed: FATAL: password authentication failed for user "posthog"'
    assert (failed["status"], failed["latest_error"]) == ("FailedRetryable", expected)
    assert (timed_out["status"], timed_out["latest_error"]) == ("TimedOut", None)  # Temporal's, not the worker's
    failure_logs = api.get(f"/batch_exports/{export['id']}/logs/", query_string={"level": "ERROR"}).json["results"]
    assert sorted(e["message"] for e in failure_logs) == ["Batch export run failed: TimedOut",
                                                          f"Batch export run failed: {expected}"]  # fmt: skip


def test_a_planned_running_outcome_never_ends_until_cancelled(server: MockServer, api: Api) -> None:
    export = api.create_export(interval="hour")
    plan(server, export["id"], {"status": "Running"})
    advance(api, HOUR + 3600)
    hanging = runs(api, export["id"])[0]
    assert hanging["status"] == "Running" and hanging["finished_at"] is None
    cancelled = api.post(f"/batch_exports/{export['id']}/runs/{hanging['id']}/cancel/")
    assert cancelled.status_code == 200
    assert runs(api, export["id"])[0]["status"] == "Cancelled"


def test_backfill_runs_take_planned_outcomes_too_and_a_failed_one_does_not_stop_the_backfill(
    server: MockServer, api: Api
) -> None:
    """PostHog's ``backfill_schedule`` logs a failed run and starts the next interval's; the backfill completes."""
    export = api.create_export(interval="hour")
    server.plan_outcomes(export["id"], [Outcome("Failed", "planned")])
    created = api.post(
        f"/batch_exports/{export['id']}/backfills/",
        json={"start_at": "2026-01-05T09:00:00Z", "end_at": "2026-01-05T11:00:00Z"},
    )
    assert created.status_code == 201
    advance(api, 600)
    (backfill,) = api.get(f"/batch_exports/{export['id']}/backfills/").json["results"]
    assert backfill["status"] == "Completed"
    failed, completed = runs(api, export["id"])
    assert (failed["status"], failed["latest_error"], failed["backfill"]) == ("Failed", "planned", backfill["id"])
    assert (completed["status"], completed["backfill"]) == ("Completed", backfill["id"])
    # Counted from its completed runs only.
    assert backfill["total_records_count"] == completed["records_completed"]


def test_outcome_status_must_be_a_way_a_run_can_end(server: MockServer, api: Api) -> None:
    export = api.create_export()
    for status in ("Exploded", "Cancelled", "Starting"):
        response = plan(server, export["id"], {"status": "Completed"}, {"status": status})
        assert (response.status_code, response.json) == (
            400,
            error("invalid_choice", f'"{status}" is not a valid choice.', "outcomes__1__status"),
        )
    assert server.planned_outcomes(export["id"]) == []  # nothing half-planned


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"outcomes": []}, error("required", "This field is required.", "batch_export_id")),
        ({"batch_export_id": UNKNOWN_ID}, error("required", "This field is required.", "outcomes")),
        (
            {"batch_export_id": "nope", "outcomes": []},
            error("invalid_input", "Must be a valid UUID.", "batch_export_id"),
        ),
        (
            {"batch_export_id": UNKNOWN_ID, "outcomes": []},
            error("does_not_exist", f'Invalid pk "{UNKNOWN_ID}" - object does not exist.', "batch_export_id"),
        ),
        (
            {"batch_export_id": UNKNOWN_ID, "outcomes": [{}]},
            error("required", "This field is required.", "outcomes__0__status"),
        ),
        (
            {"batch_export_id": UNKNOWN_ID, "outcomes": [{"status": "Failed", "records_completed": -1}]},
            error("min_value", "Ensure this value is greater than or equal to 0.", "outcomes__0__records_completed"),
        ),
        (
            {"batch_export_id": UNKNOWN_ID, "outcomes": [{"status": "Failed", "latest_error": 7}]},
            error("invalid_input", "Not a valid string.", "outcomes__0__latest_error"),
        ),
    ],
)
def test_invalid_plans_are_400_in_postHogs_shape(server: MockServer, body: dict[str, Any], expected: Any) -> None:
    response = control(server, "POST", "/_mock/outcomes/", json=body)
    assert (response.status_code, response.json) == (400, expected)


def test_a_deleted_export_cannot_be_planned(server: MockServer, api: Api) -> None:
    export = api.create_export()
    assert api.delete(f"/batch_exports/{export['id']}/").status_code == 204
    response = plan(server, export["id"], {"status": "Failed"})
    assert response.json == error(
        "does_not_exist", f'Invalid pk "{export["id"]}" - object does not exist.', "batch_export_id"
    )


def test_reading_needs_a_valid_batch_export_id(server: MockServer) -> None:
    missing = control(server, "GET", "/_mock/outcomes/")
    assert (missing.status_code, missing.json) == (400, error("required", "This field is required.", "batch_export_id"))
    bad = control(server, "GET", "/_mock/outcomes/", query_string={"batch_export_id": "x"})
    assert (bad.status_code, bad.json) == (400, error("invalid_input", "Must be a valid UUID.", "batch_export_id"))
    empty = control(server, "GET", "/_mock/outcomes/", query_string={"batch_export_id": UNKNOWN_ID})
    assert (empty.status_code, empty.json) == (200, {"batch_export_id": UNKNOWN_ID, "outcomes": []})


def test_delete_forgets_one_export_or_all(server: MockServer, api: Api) -> None:
    one, two = api.create_export(), api.create_export()
    server.plan_outcomes(one["id"], [Outcome("Failed")])
    server.plan_outcomes(two["id"], [Outcome("Failed")])
    response = control(server, "DELETE", "/_mock/outcomes/", query_string={"batch_export_id": one["id"]})
    assert (response.status_code, response.data) == (204, b"")
    assert (server.planned_outcomes(one["id"]), len(server.planned_outcomes(two["id"]))) == ([], 1)
    assert control(server, "DELETE", "/_mock/outcomes/").status_code == 204
    assert server.planned_outcomes(two["id"]) == []


# -- the Python API --------------------------------------------------------------------------


def test_python_api_plans_the_same_queue(server: MockServer, api: Api) -> None:
    export = api.create_export()
    queue = server.plan_outcomes(export["id"], [Outcome("FailedBilling", "over quota"), Outcome("Completed")])
    assert queue == [Outcome("FailedBilling", "over quota"), Outcome("Completed")]
    read = control(server, "GET", "/_mock/outcomes/", query_string={"batch_export_id": export["id"]})
    assert [o["status"] for o in read.json["outcomes"]] == ["FailedBilling", "Completed"]


def test_the_spec_enum_is_the_lifecycle_s_set_of_endings() -> None:
    endings = set(RUN_TRANSITIONS["Running"]) - {"Cancelled"}
    assert set(OUTCOME_STATUSES) == endings | {"Running"}
    schemas = load_spec().document["components"]["schemas"]
    for name in ("PlannedOutcomeRequest", "PlannedOutcome"):
        assert schemas[name]["properties"]["status"]["enum"] == list(OUTCOME_STATUSES)
    for status in OUTCOME_STATUSES:
        Outcome(status)  # each one is accepted by the domain


# -- progression -----------------------------------------------------------------------------


def test_progression_reads_and_sets_the_lifecycle_timings(server: MockServer, api: Api) -> None:
    assert control(server, "GET", "/_mock/progression/").json == {"start_after": 30.0, "finish_after": 150.0}
    response = control(server, "PUT", "/_mock/progression/", json={"start_after": 10, "finish_after": 20.5})
    assert (response.status_code, response.json) == (200, {"start_after": 10.0, "finish_after": 20.5})
    assert server.store.progression == Progression(10.0, 20.5)
    export = api.create_export(interval="hour")
    advance(api, HOUR + 31)  # fired at 13:00, Running at 13:00:10, ended at 13:00:30.5
    (run,) = runs(api, export["id"])
    assert (run["status"], run["finished_at"]) == ("Completed", "2026-01-05T13:00:30.500000Z")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"start_after": 1}, error("required", "This field is required.", "finish_after")),
        (
            {"start_after": -1, "finish_after": 1},
            error("min_value", "Ensure this value is greater than or equal to 0.", "start_after"),
        ),
        (
            {"start_after": "soon", "finish_after": 1},
            error("invalid_input", "A valid number is required.", "start_after"),
        ),
    ],
)
def test_invalid_progressions_are_400(server: MockServer, body: dict[str, Any], expected: Any) -> None:
    response = control(server, "PUT", "/_mock/progression/", json=body)
    assert (response.status_code, response.json) == (400, expected)
    assert server.store.progression == Progression()


def test_reset_forgets_outcomes_and_restores_the_default_progression(server: MockServer, api: Api) -> None:
    export = api.create_export()
    server.plan_outcomes(export["id"], [Outcome("Failed")])
    control(server, "PUT", "/_mock/progression/", json={"start_after": 1, "finish_after": 1})
    assert control(server, "POST", "/_mock/reset/").status_code == 204
    assert server.store.planned_outcomes == {}
    assert server.store.progression == Progression()


# -- file downloads ------------------------------------------------------------------------------

DOWNLOAD = {
    "model": "events",
    "data_interval_start": "2026-01-05T10:00:00Z",
    "data_interval_end": "2026-01-05T11:00:00Z",
    "file": {"format": "JSONLines"},
}


def test_a_projects_next_file_downloads_end_as_planned_over_http(server: MockServer, api: Api) -> None:
    planned = control(
        server, "POST", "/_mock/outcomes/file_downloads/",
        json={"project_id": api.tenant.project_id, "outcomes": [{"status": "Failed", "latest_error": "disk full"},
                                                                {"status": "Completed", "records_completed": 0}]},
    )  # fmt: skip
    assert planned.status_code == 201
    assert [o["status"] for o in planned.json["outcomes"]] == ["Failed", "Completed"]
    failed = api.post("/file_download_batch_exports/", json=DOWNLOAD).json["id"]
    empty = api.post("/file_download_batch_exports/", json=DOWNLOAD).json["id"]
    normal = api.post("/file_download_batch_exports/", json=DOWNLOAD).json["id"]
    advance(api, 600)
    assert api.get(f"/file_download_batch_exports/{failed}/").json["status"] == "Failed"
    assert api.get(f"/file_download_batch_exports/{empty}/").json == {"status": "Completed", "files": []}
    assert len(api.get(f"/file_download_batch_exports/{normal}/").json["files"]) >= 1
    left = control(server, "GET", f"/_mock/outcomes/file_downloads/?project_id={api.tenant.project_id}")
    assert left.json == {"project_id": api.tenant.project_id, "outcomes": []}


def test_file_download_outcomes_need_a_project_that_exists_and_can_be_forgotten(server: MockServer, api: Api) -> None:
    unknown = control(server, "POST", "/_mock/outcomes/file_downloads/", json={"project_id": 999, "outcomes": []})
    assert unknown.json == error("does_not_exist", 'Invalid pk "999" - object does not exist.', "project_id")
    server.plan_file_downloads(api.tenant.project_id, [Outcome("Failed")])
    assert control(server, "DELETE", "/_mock/outcomes/file_downloads/").status_code == 204
    assert server.planned_file_downloads(api.tenant.project_id) == []


@pytest.mark.posthog_mock(clock="private")
def test_the_plugin_plans_file_downloads_too(posthog_mock: Any) -> None:
    posthog_mock.plan_file_downloads([{"status": "Failed", "latest_error": "disk full"}])
    with posthog_mock.httpx_client() as client:
        made = client.post(f"/api/projects/{posthog_mock.project_id}/file_download_batch_exports/", json=DOWNLOAD)
        posthog_mock.advance(600)
        shown = client.get(f"/api/projects/{posthog_mock.project_id}/file_download_batch_exports/{made.json()['id']}/")
    assert shown.json() == {"status": "Failed", "error": "disk full"}
