"""The batch-export operations over HTTP: what each one answers, and the export's lifecycle.

One test per operation at project level (``/api/projects/{id}/batch_exports/…``), then the
same operations under ``/api/environments/{id}`` (a legacy alias with identical behaviour)
and ``/api/organizations/{org}`` (which spans every project of the organization), then
soft delete, pause/unpause, computed fields and routing details. The routes are PostHog's
``products/batch_exports/backend/routes.py@4d91a791395f7b1dbce6d3288b1262f90410dfaf`` (every
project route twice, under ``projects`` and ``environments``; only ``batch_exports`` under
``organizations``), the answers ``BatchExportViewSet`` and ``BatchExportSerializer`` of
``products/batch_exports/backend/api/batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd``
and the pause, unpause and delete of
``products/batch_exports/backend/service.py@02b1f511eba060f6e18d0e9100bd270d295141b8``.

Validation rules live in ``test_validation_rules.py``, authentication in ``test_auth.py``,
pagination in ``test_pagination.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from support import Api, error

from mockserver import MockServer, Tenant
from mockserver.domain.models import LogEntry, Run

#: The fake's frozen clock starts here, so every timestamp of a fresh export is this one.
T0 = "2026-01-05T12:00:00Z"
NOOP = {"type": "NoOp", "config": {}}
NOT_FOUND = error("not_found", "Not found.", type="invalid_request")
MISSING_ID = "0190f6d2-5c2e-7a3b-8c4d-5e6f7a8b9c0d"


def exported(export_id: str, team_id: int, **overrides: Any) -> dict[str, Any]:
    """The body PostHog returns for the default NoOp export created by ``api.create_export``."""
    body: dict[str, Any] = {
        "id": export_id,
        "team_id": team_id,
        "name": "my export",
        "model": "events",
        "destination": {"type": "NoOp", "config": {}, "integration": None},
        "interval": "hour",
        "paused": False,
        "created_at": T0,
        "last_updated_at": T0,
        "last_paused_at": None,
        "start_at": None,
        "end_at": None,
        "latest_runs": [],
        "schema": None,
        "filters": None,
        "timezone": "UTC",
        "offset_day": None,
        "offset_hour": None,
    }
    body.update(overrides)
    return body


def stamp(server: MockServer) -> str:
    """The clock's now, rendered as PostHog renders datetimes."""
    return server.store.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


# -- one test per operation (project level) ------------------------------------------------


def test_create_answers_201_with_the_whole_export(api: Api, tenant: Tenant) -> None:
    response = api.post("/batch_exports/", json={"name": "my export", "interval": "hour", "destination": NOOP})

    assert response.status_code == 201
    assert response.json == exported(response.json["id"], tenant.project_id)


def test_list_answers_the_projects_exports_newest_first(api: Api, server: MockServer, tenant: Tenant) -> None:
    older = api.create_export(name="older")
    server.store.clock.advance(10)
    newer = api.create_export(name="newer")

    response = api.get("/batch_exports/")

    assert response.status_code == 200
    assert response.json == {"count": 2, "next": None, "previous": None, "results": [newer, older]}


def test_retrieve_answers_the_export(api: Api) -> None:
    export = api.create_export()

    response = api.get(f"/batch_exports/{export['id']}/")

    assert response.status_code == 200
    assert response.json == export


def test_put_replaces_the_export(api: Api, server: MockServer, tenant: Tenant) -> None:
    export = api.create_export()
    server.store.clock.advance(30)

    response = api.put(
        f"/batch_exports/{export['id']}/",
        json={"name": "renamed", "interval": "day", "destination": {"type": "NoOp", "config": {"arg": "x"}}},
    )

    assert response.status_code == 200
    assert response.json == exported(
        export["id"],
        tenant.project_id,
        name="renamed",
        interval="day",
        destination={"type": "NoOp", "config": {"arg": "x"}, "integration": None},
        last_updated_at=stamp(server),
        offset_hour=0,
    )


def test_put_needs_the_destination(api: Api) -> None:
    export = api.create_export()

    response = api.put(f"/batch_exports/{export['id']}/", json={"name": "renamed", "interval": "hour"})

    assert response.status_code == 400
    assert response.json == error("required", "This field is required.", "destination")


def test_patch_changes_only_the_fields_sent(api: Api, server: MockServer, tenant: Tenant) -> None:
    export = api.create_export(filters=[{"key": "$browser", "operator": "exact", "type": "event", "value": ["X"]}])
    server.store.clock.advance(30)

    response = api.patch(f"/batch_exports/{export['id']}/", json={"name": "renamed"})

    assert response.status_code == 200
    assert response.json == {**export, "name": "renamed", "last_updated_at": stamp(server)}


def test_delete_answers_204_with_an_empty_body(api: Api) -> None:
    export = api.create_export()

    response = api.delete(f"/batch_exports/{export['id']}/")

    assert response.status_code == 204
    assert response.data == b""


def test_pause_answers_paused_true(api: Api) -> None:
    export = api.create_export()

    response = api.post(f"/batch_exports/{export['id']}/pause/")

    assert response.status_code == 200
    assert response.json == {"paused": True}
    assert api.get(f"/batch_exports/{export['id']}/").json["paused"] is True


def test_unpause_answers_paused_false(api: Api) -> None:
    export = api.create_export(paused=True)

    response = api.post(f"/batch_exports/{export['id']}/unpause/")

    assert response.status_code == 200
    assert response.json == {"paused": False}
    assert api.get(f"/batch_exports/{export['id']}/").json["paused"] is False


def test_logs_answer_the_exports_entries_newest_first(api: Api, server: MockServer, tenant: Tenant) -> None:
    export = api.create_export()
    base = server.store.clock.now()
    for minutes, message in ((1, "first"), (2, "second")):
        server.store.add_log(
            LogEntry(tenant.project_id, export["id"], "run-1", base + timedelta(minutes=minutes), "info", message)
        )

    response = api.get(f"/batch_exports/{export['id']}/logs/")

    assert response.status_code == 200
    assert response.json == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "log_source_id": export["id"],
                "instance_id": "run-1",
                "timestamp": "2026-01-05T12:02:00Z",
                "level": "INFO",
                "message": "second",
            },
            {
                "log_source_id": export["id"],
                "instance_id": "run-1",
                "timestamp": "2026-01-05T12:01:00Z",
                "level": "INFO",
                "message": "first",
            },
        ],
    }


def test_test_lists_the_checks_of_a_destination_type(api: Api) -> None:
    response = api.get("/batch_exports/test/?destination=AzureBlob")

    assert response.status_code == 200
    assert response.json == {
        "steps": [
            {
                "name": "Verify Azure Blob container",
                "description": (
                    "Ensure the configured container exists and that we have the required permissions to write to it."
                ),
                "result": None,
            }
        ]
    }


def test_run_test_step_new_runs_one_check_and_saves_nothing(api: Api) -> None:
    body = {
        "step": 1,
        "name": "warehouse",
        "interval": "hour",
        "destination": {
            "type": "BigQuery",
            "config": {"dataset_id": "analytics"},
            "integration": api.integration("google-cloud-service-account"),
        },
    }

    response = api.post("/batch_exports/run_test_step_new/", json=body)

    assert response.status_code == 200
    assert response.json == {
        "name": "Verify BigQuery dataset",
        "description": (
            "Ensure the configured BigQuery dataset exists and that we have the required permissions to access it."
        ),
        "result": {"status": "Passed", "message": None},
    }
    assert api.get("/batch_exports/").json["count"] == 0


def test_run_test_step_checks_the_stored_destination(api: Api, server: MockServer) -> None:
    export = api.create_export(
        destination={
            "type": "AwsS3",
            "config": {"bucket_name": "b", "region": "eu-west-1", "prefix": "p"},
            "integration": api.integration("aws-s3"),
        }
    )

    response = api.post(
        f"/batch_exports/{export['id']}/run_test_step/",
        json={"step": 0, "destination": {"type": "AwsS3", "config": {"prefix": "other"}}},
    )

    assert response.status_code == 200
    assert response.json == {
        "name": "Verify S3 bucket",
        "description": "Ensure the configured S3 bucket exists and that we have the required permissions to access it.",
        "result": {"status": "Passed", "message": None},
    }
    assert server.store.batch_exports[export["id"]].destination.config["prefix"] == "p"


def test_run_test_step_cannot_change_the_destination_type(api: Api) -> None:
    export = api.create_export()

    response = api.post(
        f"/batch_exports/{export['id']}/run_test_step/",
        json={"destination": {"type": "HTTP", "config": {}}},
    )

    assert response.status_code == 400
    assert response.json == error(
        "invalid_input",
        "Cannot change destination type from 'NoOp' to 'HTTP'. "
        "Delete this batch export and create a new one with the new destination type.",
        "destination",
    )


def test_run_test_step_out_of_range_is_400_where_posthog_fails(api: Api) -> None:
    """PostHog indexes its list of steps and answers 500; the fake says what went wrong."""
    body = {
        "step": 3,
        "name": "n",
        "interval": "hour",
        "destination": {
            "type": "AzureBlob",
            "config": {"container_name": "c"},
            "integration": api.integration("azure-blob"),
        },
    }

    response = api.post("/batch_exports/run_test_step_new/", json=body)

    assert response.status_code == 400
    assert response.json == error("invalid_input", "Invalid step 3: this destination has 1 test steps.", "step")


def test_test_without_a_destination_is_400_with_an_empty_body(api: Api) -> None:
    response = api.get("/batch_exports/test/")

    assert response.status_code == 400
    assert response.data == b""


def test_test_with_an_unsupported_destination_is_404_with_an_empty_body(api: Api) -> None:
    response = api.get("/batch_exports/test/?destination=Postgres")

    assert response.status_code == 404
    assert response.data == b""


# -- the same operations under /api/environments/ and /api/organizations/ -----------------

LEVELS = ["projects", "environments", "organizations"]


def prefix(tenant: Tenant, level: str) -> str:
    if level == "organizations":
        return f"/api/organizations/{tenant.organization_id}"
    return f"/api/{level}/{tenant.project_id}"


@pytest.mark.parametrize("level", LEVELS)
def test_every_prefix_lists_the_same_exports(api: Api, tenant: Tenant, level: str) -> None:
    export = api.create_export()

    response = api.get(f"{prefix(tenant, level)}/batch_exports/")

    assert response.status_code == 200
    assert response.json == {"count": 1, "next": None, "previous": None, "results": [export]}


@pytest.mark.parametrize("level", LEVELS)
def test_every_prefix_retrieves_the_export(api: Api, tenant: Tenant, level: str) -> None:
    export = api.create_export()

    response = api.get(f"{prefix(tenant, level)}/batch_exports/{export['id']}/")

    assert response.status_code == 200
    assert response.json == export


@pytest.mark.parametrize("level", LEVELS)
def test_every_prefix_patches_the_export(api: Api, tenant: Tenant, level: str) -> None:
    export = api.create_export()

    response = api.patch(f"{prefix(tenant, level)}/batch_exports/{export['id']}/", json={"name": "renamed"})

    assert response.status_code == 200
    assert response.json == {**export, "name": "renamed"}


@pytest.mark.parametrize("level", LEVELS)
def test_every_prefix_puts_the_export(api: Api, tenant: Tenant, level: str) -> None:
    export = api.create_export()
    body = {"name": "renamed", "interval": "hour", "destination": NOOP}

    response = api.put(f"{prefix(tenant, level)}/batch_exports/{export['id']}/", json=body)

    assert response.status_code == 200
    assert response.json == {**export, "name": "renamed"}


@pytest.mark.parametrize("level", LEVELS)
def test_every_prefix_deletes_the_export(api: Api, tenant: Tenant, level: str) -> None:
    export = api.create_export()

    response = api.delete(f"{prefix(tenant, level)}/batch_exports/{export['id']}/")

    assert response.status_code == 204
    assert api.get(f"/batch_exports/{export['id']}/").status_code == 404


@pytest.mark.parametrize("level", LEVELS)
def test_every_prefix_pauses_and_unpauses(api: Api, tenant: Tenant, level: str) -> None:
    export = api.create_export()
    base = f"{prefix(tenant, level)}/batch_exports/{export['id']}"

    paused = api.post(f"{base}/pause/")
    unpaused = api.post(f"{base}/unpause/")

    assert (paused.status_code, paused.json) == (200, {"paused": True})
    assert (unpaused.status_code, unpaused.json) == (200, {"paused": False})


@pytest.mark.parametrize("level", LEVELS)
def test_every_prefix_lists_destination_checks(api: Api, tenant: Tenant, level: str) -> None:
    response = api.get(f"{prefix(tenant, level)}/batch_exports/test/?destination=S3Compatible")

    assert response.status_code == 200
    assert [step["name"] for step in response.json["steps"]] == ["Verify S3 bucket"]


@pytest.mark.parametrize("level", ["projects", "environments"])
def test_project_and_environment_prefixes_create_in_the_project(api: Api, tenant: Tenant, level: str) -> None:
    body = {"name": "my export", "interval": "hour", "destination": NOOP}

    response = api.post(f"{prefix(tenant, level)}/batch_exports/", json=body)

    assert response.status_code == 201
    assert response.json == exported(response.json["id"], tenant.project_id)


@pytest.mark.parametrize("level", ["projects", "environments"])
def test_project_and_environment_prefixes_serve_logs(api: Api, tenant: Tenant, level: str) -> None:
    export = api.create_export()

    response = api.get(f"{prefix(tenant, level)}/batch_exports/{export['id']}/logs/")

    assert response.status_code == 200
    assert response.json == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("level", ["projects", "environments"])
def test_project_and_environment_prefixes_run_test_steps(api: Api, tenant: Tenant, level: str) -> None:
    destination: dict[str, Any] = {
        "type": "Databricks",
        "config": {"http_path": "/sql", "catalog": "c", "schema": "s", "table_name": "t"},
    }
    destination["integration"] = api.integration("databricks")
    body = {"step": 2, "name": "n", "interval": "hour", "destination": destination}

    response = api.post(f"{prefix(tenant, level)}/batch_exports/run_test_step_new/", json=body)

    assert response.status_code == 200
    assert response.json["name"] == "Verify Databricks schema"


def test_the_organization_list_spans_every_project_of_the_organization(
    api: Api, server: MockServer, tenant: Tenant
) -> None:
    first = api.create_export(name="first project")
    server.store.clock.advance(10)
    second_project = server.store.add_project(tenant.organization_id)
    second = api.post(
        f"/api/projects/{second_project.id}/batch_exports/",
        json={"name": "second project", "interval": "hour", "destination": NOOP},
    ).json

    org_list = api.get(f"/api/organizations/{tenant.organization_id}/batch_exports/")
    project_list = api.get("/batch_exports/")

    assert org_list.json == {"count": 2, "next": None, "previous": None, "results": [second, first]}
    assert second["team_id"] == second_project.id
    assert project_list.json["results"] == [first]


def test_the_organization_retrieves_exports_of_any_of_its_projects(
    api: Api, server: MockServer, tenant: Tenant
) -> None:
    other_project = server.store.add_project(tenant.organization_id)
    export = api.post(
        f"/api/projects/{other_project.id}/batch_exports/",
        json={"name": "elsewhere", "interval": "hour", "destination": NOOP},
    ).json

    response = api.get(f"/api/organizations/{tenant.organization_id}/batch_exports/{export['id']}/")

    assert response.status_code == 200
    assert response.json == export


def test_a_negative_step_counts_from_the_end_as_pythons_indexing_does(api: Api) -> None:
    body = {
        "name": "n",
        "interval": "hour",
        "destination": {
            "type": "BigQuery",
            "config": {"dataset_id": "d"},
            "integration": api.integration("google-cloud-service-account"),
        },
    }
    last = api.post("/batch_exports/run_test_step_new/", json={**body, "step": -1})
    assert (last.status_code, last.json["name"]) == (200, "Verify BigQuery table")
    beyond = api.post("/batch_exports/run_test_step_new/", json={**body, "step": -4})
    assert beyond.json == error("invalid_input", "Invalid step -4: this destination has 3 test steps.", "step")


def test_a_test_steps_body_is_judged_before_its_step(api: Api) -> None:
    """PostHog pops ``step``, validates the rest, and only then runs the step."""
    response = api.post(
        "/batch_exports/run_test_step_new/", json={"step": "zero", "interval": "hour", "destination": NOOP}
    )
    assert (response.status_code, response.json["attr"]) == (400, "name")


def test_an_organization_create_lands_in_its_first_project(api: Api, server: MockServer, tenant: Tenant) -> None:
    """PostHog has no project to put it in and fails with a 500 (docs/fidelity.md)."""
    server.store.add_project(tenant.organization_id)

    response = api.post(
        f"/api/organizations/{tenant.organization_id}/batch_exports/",
        json={"name": "my export", "interval": "hour", "destination": NOOP},
    )

    assert response.status_code == 201
    assert response.json == exported(response.json["id"], tenant.project_id)


@pytest.mark.parametrize("key", ["integration", "integration_id"])
def test_an_organization_url_finds_no_integration(api: Api, tenant: Tenant, key: str) -> None:
    """Its serializer has no team in context, so the team-scoped integration field finds none (a 400, not a 500)."""
    s3 = {"type": "AwsS3", "config": {"bucket_name": "b", "region": "r", "prefix": "p"}}
    integration = api.integration("aws-s3")
    org = f"/api/organizations/{tenant.organization_id}/batch_exports/"
    refused = error("does_not_exist", f'Invalid pk "{integration}" - object does not exist.', f"destination__{key}")
    created = api.post(org, json={"name": "x", "interval": "hour", "destination": {**s3, key: integration}})
    assert (created.status_code, created.json) == (400, refused)
    export = api.create_export(destination={**s3, "integration": integration})
    patched = api.patch(f"{org}{export['id']}/", json={"destination": {**s3, key: integration}})
    assert (patched.status_code, patched.json) == (400, refused)
    step = api.post(
        f"{org}run_test_step_new/", json={"name": "x", "interval": "hour", "destination": {**s3, key: integration}}
    )
    assert (step.status_code, step.json) == (400, refused)
    assert api.get("/batch_exports/").json["count"] == 1  # nothing made or changed


def test_an_organization_update_keeps_the_export_in_its_project(api: Api, server: MockServer, tenant: Tenant) -> None:
    other_project = server.store.add_project(tenant.organization_id)
    export = api.post(
        f"/api/projects/{other_project.id}/batch_exports/",
        json={"name": "elsewhere", "interval": "hour", "destination": NOOP},
    ).json

    response = api.patch(
        f"/api/organizations/{tenant.organization_id}/batch_exports/{export['id']}/", json={"name": "x"}
    )

    assert response.status_code == 200
    assert response.json["team_id"] == other_project.id


# -- soft delete and visibility ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "x"}),
        ("PUT", "", {"name": "x", "interval": "hour", "destination": NOOP}),
        ("DELETE", "", None),
        ("POST", "pause/", None),
        ("POST", "unpause/", None),
        ("GET", "logs/", None),
        ("POST", "run_test_step/", {"step": 0}),
    ],
)
def test_a_deleted_export_is_not_found_by_any_detail_route(
    api: Api, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    export = api.create_export()
    api.delete(f"/batch_exports/{export['id']}/")

    response = api.request(method, f"/batch_exports/{export['id']}/{suffix}", json=body)

    assert response.status_code == 404
    assert response.json == NOT_FOUND


def test_a_deleted_export_leaves_the_list(api: Api) -> None:
    kept = api.create_export(name="kept")
    deleted = api.create_export(name="deleted")

    api.delete(f"/batch_exports/{deleted['id']}/")

    assert api.get("/batch_exports/").json["results"] == [kept]


def test_a_deleted_export_stays_in_the_store(api: Api, server: MockServer) -> None:
    export = api.create_export()

    api.delete(f"/batch_exports/{export['id']}/")

    assert server.store.batch_exports[export["id"]].deleted is True


def test_workflows_exports_are_hidden_from_the_list_but_retrievable(server: MockServer) -> None:
    api = Api(server, server.store.create_tenant(feature_flags=["backfill-workflows-destination"]))
    workflow = api.create_export(destination={"type": "Workflows", "config": {"hog_function_id": "hf_1"}})

    listed = api.get("/batch_exports/")
    retrieved = api.get(f"/batch_exports/{workflow['id']}/")

    assert listed.json == {"count": 0, "next": None, "previous": None, "results": []}
    assert retrieved.status_code == 200
    assert retrieved.json == workflow


def test_an_export_of_another_project_in_the_same_organization_is_not_found(
    api: Api, server: MockServer, tenant: Tenant
) -> None:
    other_project = server.store.add_project(tenant.organization_id)
    export = api.post(
        f"/api/projects/{other_project.id}/batch_exports/",
        json={"name": "elsewhere", "interval": "hour", "destination": NOOP},
    ).json

    response = api.get(f"/batch_exports/{export['id']}/")

    assert response.status_code == 404
    assert response.json == NOT_FOUND


# -- pause, unpause and their timestamps -------------------------------------------------


def test_an_effective_pause_sets_last_paused_at_and_last_updated_at(api: Api, server: MockServer) -> None:
    export = api.create_export()
    server.store.clock.advance(60)

    api.post(f"/batch_exports/{export['id']}/pause/")

    after = api.get(f"/batch_exports/{export['id']}/").json
    assert (after["paused"], after["last_paused_at"], after["last_updated_at"]) == (True, stamp(server), stamp(server))


def test_pausing_a_paused_export_changes_nothing(api: Api, server: MockServer) -> None:
    export = api.create_export()
    api.post(f"/batch_exports/{export['id']}/pause/")
    before = api.get(f"/batch_exports/{export['id']}/").json
    server.store.clock.advance(60)

    response = api.post(f"/batch_exports/{export['id']}/pause/")

    assert (response.status_code, response.json) == (200, {"paused": True})
    assert api.get(f"/batch_exports/{export['id']}/").json == before


def test_an_effective_unpause_bumps_last_updated_at_and_keeps_last_paused_at(api: Api, server: MockServer) -> None:
    export = api.create_export()
    server.store.clock.advance(60)
    api.post(f"/batch_exports/{export['id']}/pause/")
    paused_at = stamp(server)
    server.store.clock.advance(60)

    api.post(f"/batch_exports/{export['id']}/unpause/")

    after = api.get(f"/batch_exports/{export['id']}/").json
    assert (after["paused"], after["last_paused_at"], after["last_updated_at"]) == (False, paused_at, stamp(server))


def test_unpausing_an_active_export_changes_nothing(api: Api, server: MockServer) -> None:
    export = api.create_export()
    server.store.clock.advance(60)

    response = api.post(f"/batch_exports/{export['id']}/unpause/")

    assert (response.status_code, response.json) == (200, {"paused": False})
    assert api.get(f"/batch_exports/{export['id']}/").json == export


def test_unpause_with_backfill_re_exports_the_paused_span(api: Api, server: MockServer) -> None:
    export = api.create_export()
    server.store.clock.advance(60)
    api.post(f"/batch_exports/{export['id']}/pause/")
    server.store.clock.advance(120)

    response = api.post(f"/batch_exports/{export['id']}/unpause/", json={"backfill": True})

    assert (response.status_code, response.json) == (200, {"paused": False})
    [backfill] = api.get(f"/batch_exports/{export['id']}/backfills/").json["results"]
    assert (backfill["start_at"], backfill["end_at"]) == ("2026-01-05T12:01:00Z", "2026-01-05T12:03:00Z")


@pytest.mark.parametrize(("flag", "backfills"), [(False, 0), ("false", 1), (0, 1)])
def test_unpause_backfills_unless_backfill_is_json_false(api: Api, flag: Any, backfills: int) -> None:
    """PostHog tests ``request.data.get("backfill", False) is False``: only JSON false opts out."""
    export = api.create_export(paused=True)

    api.post(f"/batch_exports/{export['id']}/unpause/", json={"backfill": flag})

    assert len(api.get(f"/batch_exports/{export['id']}/backfills/").json["results"]) == backfills


def test_unpausing_an_active_export_never_backfills(api: Api) -> None:
    export = api.create_export()

    api.post(f"/batch_exports/{export['id']}/unpause/", json={"backfill": True})

    assert api.get(f"/batch_exports/{export['id']}/backfills/").json["results"] == []


def test_patching_paused_does_not_touch_last_paused_at(api: Api, server: MockServer) -> None:
    export = api.create_export()
    server.store.clock.advance(60)

    response = api.patch(f"/batch_exports/{export['id']}/", json={"paused": True})

    assert (response.json["paused"], response.json["last_paused_at"]) == (True, None)
    assert response.json["last_updated_at"] == stamp(server)


def test_last_paused_at_is_writable(api: Api) -> None:
    export = api.create_export(last_paused_at="2025-12-31T23:00:00+01:00")

    assert export["last_paused_at"] == "2025-12-31T22:00:00Z"


# -- computed fields ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "offset_day", "offset_hour"),
    [("hour", None, None), ("day", None, 0), ("week", 0, 0)],
)
def test_offsets_are_null_where_they_do_not_apply_and_zero_by_default(
    api: Api, interval: str, offset_day: int | None, offset_hour: int | None
) -> None:
    export = api.create_export(interval=interval)

    assert (export["offset_day"], export["offset_hour"]) == (offset_day, offset_hour)


def test_weekly_offsets_are_echoed(api: Api) -> None:
    export = api.create_export(interval="week", offset_day=3, offset_hour=14)

    assert (export["offset_day"], export["offset_hour"]) == (3, 14)


def test_a_null_timezone_is_stored_as_utc(api: Api) -> None:
    export = api.create_export(timezone=None)

    assert export["timezone"] == "UTC"


def test_a_new_export_has_no_runs(api: Api) -> None:
    assert api.create_export()["latest_runs"] == []


def run_id(i: int) -> str:
    return f"0190f6d2-0000-7000-8000-{i:012d}"


def test_latest_runs_are_the_ten_newest_runs(api: Api, server: MockServer, tenant: Tenant) -> None:
    export = api.create_export()
    store = server.store
    base = store.clock.now()
    for i in range(12):
        at = base - timedelta(hours=12 - i)
        run = Run(run_id(i), tenant.project_id, "Completed", at - timedelta(hours=1), at, at, at)
        run.batch_export_id = export["id"]
        store.runs[run.id] = run
        store.runs_by_export.setdefault(export["id"], []).append(run.id)

    latest = api.get(f"/batch_exports/{export['id']}/").json["latest_runs"]

    assert [r["id"] for r in latest] == [run_id(i) for i in range(11, 1, -1)]
    assert latest[0] == {
        "id": run_id(11),
        "status": "Completed",
        "records_completed": None,
        "records_failed": None,
        "latest_error": None,
        "data_interval_start": "2026-01-05T10:00:00Z",
        "data_interval_end": "2026-01-05T11:00:00Z",
        "cursor": None,
        "created_at": "2026-01-05T11:00:00Z",
        "finished_at": None,
        "last_updated_at": "2026-01-05T11:00:00Z",
        "records_total_count": None,
        "bytes_exported": None,
        "batch_export": export["id"],
        "batch_export_on_demand": None,
        "backfill": None,
    }


def test_the_name_is_trimmed(api: Api) -> None:
    assert api.create_export(name="  spaced  ")["name"] == "spaced"


# -- routing -------------------------------------------------------------------------------


def test_an_unknown_path_is_endpoint_not_found(api: Api) -> None:
    response = api.get("/api/projects/1/no_such_thing/")

    assert response.status_code == 404
    assert response.json == error("not_found", "Endpoint not found.", type="invalid_request")


def test_a_wrong_method_is_405_with_an_allow_header(api: Api) -> None:
    response = api.delete("/batch_exports/")

    assert response.status_code == 405
    assert response.json == error("method_not_allowed", 'Method "DELETE" not allowed.', type="invalid_request")
    assert {"GET", "POST"} <= set(response.headers["Allow"].split(", "))
    assert "DELETE" not in response.headers["Allow"]


def test_a_wrong_method_on_an_action_is_405(api: Api) -> None:
    export = api.create_export()

    response = api.get(f"/batch_exports/{export['id']}/pause/")

    assert response.status_code == 405
    assert response.json == error("method_not_allowed", 'Method "GET" not allowed.', type="invalid_request")
    assert "POST" in response.headers["Allow"].split(", ")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/batch_exports", None, 200),
        ("POST", "/batch_exports", {"name": "n", "interval": "hour", "destination": NOOP}, 201),
        ("GET", "/batch_exports/{id}", None, 200),
        ("PUT", "/batch_exports/{id}", {"name": "n", "interval": "hour", "destination": NOOP}, 200),
        ("PATCH", "/batch_exports/{id}", {"name": "n"}, 200),
        ("POST", "/batch_exports/{id}/pause", None, 200),
        ("POST", "/batch_exports/{id}/unpause", None, 200),
        ("GET", "/batch_exports/{id}/logs", None, 200),
        ("GET", "/batch_exports/test?destination=S3", None, 200),
        ("POST", "/batch_exports/{id}/run_test_step", {"step": 0}, 400),
        ("POST", "/batch_exports/run_test_step_new", {}, 400),
        ("DELETE", "/batch_exports/{id}", None, 204),
    ],
)
def test_the_trailing_slash_is_optional(
    api: Api, method: str, path: str, body: dict[str, Any] | None, status: int
) -> None:
    export = api.create_export()

    response = api.request(method, path.format(id=export["id"]), json=body)

    assert response.status_code == status


@pytest.mark.parametrize("level", LEVELS)
def test_the_trailing_slash_is_optional_under_every_prefix(api: Api, tenant: Tenant, level: str) -> None:
    assert api.get(f"{prefix(tenant, level)}/batch_exports").status_code == 200


@pytest.mark.parametrize("export_id", ["not-a-uuid", "12345", MISSING_ID])
def test_an_unknown_or_malformed_export_id_is_not_found(api: Api, export_id: str) -> None:
    response = api.get(f"/batch_exports/{export_id}/")

    assert response.status_code == 404
    assert response.json == NOT_FOUND


@pytest.mark.parametrize("spelling", [str.upper, lambda i: i.replace("-", "")])
def test_an_export_id_may_be_spelt_any_way_a_uuid_can(api: Api, spelling: Any) -> None:
    export = api.create_export()

    response = api.get(f"/batch_exports/{spelling(export['id'])}/")

    assert response.status_code == 200
    assert response.json["id"] == export["id"]
