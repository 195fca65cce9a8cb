"""The fake's own ``/_mock/`` routes for tenants, reset and the state dump.

They are not part of PostHog's API and need no key. ``POST /_mock/tenants/`` mints an
organization with one project, a personal API key and one integration per kind; every
tenant is isolated from every other. ``POST /_mock/reset/`` forgets everything, keys
included. ``GET /_mock/state/`` dumps what the fake stores, secrets and deleted exports
included, for debugging.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from support import Api, JsonResponse, call, error
from werkzeug.test import Client

from mockserver import MockServer, Tenant
from mockserver.fixtures import ScenarioError

NOOP = {"type": "NoOp", "config": {}}
INTEGRATION_KINDS = [
    "aws-s3",
    "s3-compatible",
    "snowflake",
    "postgresql",
    "aws-redshift",
    "google-cloud-service-account",
    "databricks",
    "azure-blob",
]


def mock(server: MockServer, method: str, path: str, **kwargs: Any) -> JsonResponse:
    """A control-plane call: no credentials at all."""
    return call(server, method, path, **kwargs)


def as_tenant(server: MockServer, body: dict[str, Any]) -> Api:
    """The :class:`Api` of a tenant minted over HTTP."""
    return Api(server, Tenant(**body))


# -- tenants ---------------------------------------------------------------------------------


def test_a_new_tenant_gets_a_read_write_key_and_one_integration_per_kind(server: MockServer) -> None:
    response = mock(server, "POST", "/_mock/tenants/")

    assert response.status_code == 201
    body = response.json
    assert body == {
        "organization_id": body["organization_id"],
        "organization_name": f"Organization {body['project_id']}",
        "project_id": body["project_id"],
        "project_name": f"Project {body['project_id']}",
        "api_key": body["api_key"],
        "scopes": ["batch_export:read", "batch_export:write"],
        "feature_flags": [],
        "integrations": body["integrations"],
        "profile": "docs",
    }
    assert body["api_key"].startswith("phx_")
    assert [i["kind"] for i in body["integrations"]] == INTEGRATION_KINDS


def test_a_tenant_takes_scopes_flags_and_names(server: MockServer) -> None:
    request = {
        "scopes": ["batch_export:read"],
        "feature_flags": ["high-frequency-batch-exports"],
        "organization_name": "Acme",
        "project_name": "Acme web",
    }

    response = mock(server, "POST", "/_mock/tenants/", json=request)

    assert response.status_code == 201
    assert {k: response.json[k] for k in request} == request


def test_the_minted_key_works_against_the_minted_project(server: MockServer) -> None:
    api = as_tenant(server, mock(server, "POST", "/_mock/tenants/").json)

    response = api.post("/batch_exports/", json={"name": "n", "interval": "hour", "destination": NOOP})

    assert response.status_code == 201
    assert response.json["team_id"] == api.tenant.project_id


def test_the_minted_key_has_only_the_scopes_asked_for(server: MockServer) -> None:
    api = as_tenant(server, mock(server, "POST", "/_mock/tenants/", json={"scopes": ["batch_export:read"]}).json)

    assert api.get("/batch_exports/").status_code == 200
    assert api.post("/batch_exports/", json={}).json == error(
        "permission_denied", "API key missing required scope 'batch_export:write'", type="authentication_error"
    )


def test_scopes_and_flags_repeated_are_kept_once(server: MockServer, tenant: Tenant) -> None:
    body = mock(server, "POST", "/_mock/tenants/", json={"scopes": ["batch_export:read"] * 1000}).json
    scopes = ["batch_export:write", "batch_export:read"] * 500
    minted = mock(server, "POST", "/_mock/keys/", json={"project_id": tenant.project_id, "scopes": scopes})

    assert server.store.api_keys[body["api_key"]].scopes == ["batch_export:read"]
    assert minted.json["scopes"] == ["batch_export:write", "batch_export:read"]


def test_a_second_project_joins_the_tenants_organization(server: MockServer, tenant: Tenant) -> None:
    """The tenant's key reaches it and lists it at organization level; a key minted for the first project does not."""
    project = mock(server, "POST", "/_mock/projects/", json={"organization_id": tenant.organization_id.upper(),
                                                            "name": "Staging"}).json  # fmt: skip
    reader = {"project_id": tenant.project_id, "scopes": ["batch_export:read"]}
    minted = mock(server, "POST", "/_mock/keys/", json=reader)
    restricted = minted.json["api_key"]
    owner = Api(server, replace(tenant, project_id=project["project_id"]))

    created = owner.post("/batch_exports/", json={"name": "staging", "interval": "day",
                                                  "destination": {"type": "NoOp", "config": {}}})  # fmt: skip
    listed = call(server, "GET", f"/api/organizations/{tenant.organization_id}/batch_exports/",
                  headers={"Authorization": f"Bearer {tenant.api_key}"})  # fmt: skip
    refused = call(server, "GET", f"/api/projects/{project['project_id']}/batch_exports/",
                   headers={"Authorization": f"Bearer {restricted}"})  # fmt: skip

    assert (project["organization_id"], project["name"]) == (tenant.organization_id, "Staging")
    assert {i["kind"] for i in project["integrations"]} == {i["kind"] for i in tenant.integrations}
    assert created.status_code == 201 and created.json["team_id"] == project["project_id"]
    assert [e["name"] for e in listed.json["results"]] == ["staging"]
    assert refused.json == error(
        "permission_denied",
        f"API key does not have access to the requested project: ID {project['project_id']}.",
        type="authentication_error",
    )


@pytest.mark.parametrize("name", ["nul " + chr(0), "lone " + chr(0xD800)])
def test_names_the_control_plane_takes_are_checked_as_the_api_checks_them(
    server: MockServer, tenant: Tenant, name: str
) -> None:
    """A NUL or a lone surrogate in a project or organization name is refused, as DRF's CharField refuses it."""
    project = call(server, "POST", "/_mock/projects/", data=json.dumps({"organization_id": tenant.organization_id,
                   "name": name}), content_type="application/json")  # fmt: skip
    new_tenant = call(server, "POST", "/_mock/tenants/", data=json.dumps({"project_name": name}),
                      content_type="application/json")  # fmt: skip

    assert project.status_code == 400 and project.json["attr"] == "name"
    assert new_tenant.status_code == 400 and new_tenant.json["attr"] == "project_name"


def test_a_project_for_an_organization_that_does_not_exist_is_a_400(server: MockServer) -> None:
    nobody = "00000000-0000-0000-0000-000000000000"
    response = mock(server, "POST", "/_mock/projects/", json={"organization_id": nobody})
    assert response.json == error(
        "does_not_exist",
        'Invalid pk "00000000-0000-0000-0000-000000000000" - object does not exist.',
        "organization_id",
    )


def test_the_flags_asked_for_are_on_for_the_project(server: MockServer) -> None:
    body = mock(server, "POST", "/_mock/tenants/", json={"feature_flags": ["high-frequency-batch-exports"]}).json
    api = as_tenant(server, body)

    response = api.post("/batch_exports/", json={"name": "n", "interval": "every 5 minutes", "destination": NOOP})

    assert response.status_code == 201


def test_the_minted_integrations_are_usable(server: MockServer) -> None:
    api = as_tenant(server, mock(server, "POST", "/_mock/tenants/").json)
    destination = {
        "type": "BigQuery",
        "config": {"dataset_id": "d"},
        "integration": api.integration("google-cloud-service-account"),
    }

    response = api.post("/batch_exports/", json={"name": "n", "interval": "hour", "destination": destination})

    assert response.status_code == 201


def test_tenants_are_isolated(server: MockServer) -> None:
    first = as_tenant(server, mock(server, "POST", "/_mock/tenants/").json)
    second = as_tenant(server, mock(server, "POST", "/_mock/tenants/").json)
    first.create_export()

    assert second.get("/batch_exports/").json["count"] == 0
    assert second.get(first.prefix + "/batch_exports/").status_code == 403
    assert second.get(f"/api/organizations/{first.tenant.organization_id}/batch_exports/").status_code == 403
    assert {i["id"] for i in first.tenant.integrations}.isdisjoint(i["id"] for i in second.tenant.integrations)


def test_an_integration_of_another_tenant_is_unusable(server: MockServer) -> None:
    first = as_tenant(server, mock(server, "POST", "/_mock/tenants/").json)
    second = as_tenant(server, mock(server, "POST", "/_mock/tenants/").json)
    destination: dict[str, Any] = {
        "type": "Databricks",
        "config": {"http_path": "/p", "catalog": "c", "schema": "s", "table_name": "t"},
    }
    destination["integration"] = first.integration("databricks")

    response = second.post("/batch_exports/", json={"name": "n", "interval": "hour", "destination": destination})

    assert response.json["code"] == "does_not_exist"


def test_a_tenant_request_is_validated(server: MockServer) -> None:
    response = mock(server, "POST", "/_mock/tenants/", json={"scopes": "batch_export:read"})

    assert response.status_code == 400
    assert response.json == error("not_a_list", 'Expected a list of items but got type "str".', "scopes")


def test_the_control_plane_ignores_credentials(server: MockServer) -> None:
    response = mock(server, "POST", "/_mock/tenants/", headers={"Authorization": "Bearer phx_not_a_key"})

    assert response.status_code == 201


# -- reset -----------------------------------------------------------------------------------


def test_reset_answers_204_with_an_empty_body(server: MockServer) -> None:
    response = mock(server, "POST", "/_mock/reset/")

    assert response.status_code == 204
    assert response.data == b""


def test_after_a_reset_old_keys_are_unknown(server: MockServer, api: Api) -> None:
    api.create_export()

    mock(server, "POST", "/_mock/reset/")
    response = api.get("/batch_exports/")

    assert response.status_code == 401
    assert response.json == error(
        "authentication_failed",
        "Personal API key found in request Authorization header is invalid.",
        type="authentication_error",
    )


def test_after_a_reset_the_state_is_empty(server: MockServer, api: Api) -> None:
    api.create_export()

    mock(server, "POST", "/_mock/reset/")

    assert mock(server, "GET", "/_mock/state/").json["organizations"] == []


def test_after_a_reset_ids_start_over_but_old_keys_open_nothing(server: MockServer, tenant: Tenant) -> None:
    """A client still holding a key from before the reset must not write into whoever comes next."""
    mock(server, "POST", "/_mock/reset/")

    again = mock(server, "POST", "/_mock/tenants/").json

    assert (again["organization_id"], again["project_id"]) == (tenant.organization_id, tenant.project_id)
    assert again["api_key"] != tenant.api_key
    stale = Client(server).get(
        f"/api/projects/{again['project_id']}/batch_exports/", headers={"Authorization": f"Bearer {tenant.api_key}"}
    )
    assert stale.status_code == 401


# -- state -----------------------------------------------------------------------------------


def test_the_state_lists_every_tenant_with_its_exports(server: MockServer, api: Api, tenant: Tenant) -> None:
    export = api.create_export()

    response = mock(server, "GET", "/_mock/state/")

    assert response.status_code == 200
    state = response.json
    assert (state["now"], state["seed"]) == ("2026-01-05T12:00:00Z", 0)
    [organization] = state["organizations"]
    assert organization["id"] == tenant.organization_id
    assert [key["value"] for key in organization["api_keys"]] == [tenant.api_key]
    [project] = organization["projects"]
    assert project["id"] == tenant.project_id
    assert [e["id"] for e in project["batch_exports"]] == [export["id"]]
    assert sorted(i["kind"] for i in project["integrations"]) == sorted(INTEGRATION_KINDS)


def test_the_state_shows_secrets_and_deleted_exports(server: MockServer, api: Api) -> None:
    export = api.create_export(
        destination={"type": "HTTP", "config": {"url": "https://eu.i.posthog.com/batch/", "token": "phc_secret"}}
    )
    api.delete(f"/batch_exports/{export['id']}/")

    [stored] = mock(server, "GET", "/_mock/state/").json["organizations"][0]["projects"][0]["batch_exports"]

    assert stored["deleted"] is True
    assert stored["destination"]["config"] == {"url": "https://eu.i.posthog.com/batch/", "token": "phc_secret"}


def test_the_state_groups_projects_under_their_organization(server: MockServer, tenant: Tenant) -> None:
    project = server.store.add_project(tenant.organization_id, name="second")

    [organization] = mock(server, "GET", "/_mock/state/").json["organizations"]

    assert [(p["id"], p["name"]) for p in organization["projects"]] == [
        (tenant.project_id, tenant.project_name),
        (project.id, "second"),
    ]


def test_a_read_only_key_can_be_minted_for_an_existing_project(server: MockServer, api: Api) -> None:
    export = api.create_export()
    minted = mock(server, "POST", "/_mock/keys/", json={"project_id": api.tenant.project_id,
                                                        "scopes": ["batch_export:read"]})  # fmt: skip
    assert minted.status_code == 201
    assert minted.json["project_id"] == api.tenant.project_id
    assert minted.json["organization_id"] == api.tenant.organization_id
    read_only = {"Authorization": f"Bearer {minted.json['api_key']}"}
    assert api.get(f"/batch_exports/{export['id']}/", headers=read_only).status_code == 200
    denied = api.post(f"/batch_exports/{export['id']}/pause/", headers=read_only)
    assert denied.status_code == 403
    assert api.get(f"/batch_exports/{export['id']}/").json["paused"] is False


def test_a_minted_key_sees_only_its_project(server: MockServer, api: Api) -> None:
    other = server.store.add_project(api.tenant.organization_id)
    minted = mock(server, "POST", "/_mock/keys/", json={"project_id": api.tenant.project_id, "scopes": ["*"]}).json
    headers = {"Authorization": f"Bearer {minted['api_key']}"}
    assert api.get(f"/api/projects/{other.id}/batch_exports/", headers=headers).status_code == 403


def test_a_key_for_an_unknown_project_is_refused(server: MockServer) -> None:
    response = mock(server, "POST", "/_mock/keys/", json={"project_id": 987654, "scopes": []})
    assert response.status_code == 400
    assert response.json == error("does_not_exist", 'Invalid pk "987654" - object does not exist.', "project_id")


def test_a_key_request_needs_known_scope_spellings(server: MockServer, tenant: Tenant) -> None:
    response = mock(server, "POST", "/_mock/keys/", json={"project_id": tenant.project_id, "scopes": ["read all"]})
    assert response.status_code == 400
    assert response.json["attr"] == "scopes__0"


# -- scenarios -----------------------------------------------------------------------------


def test_a_shipped_scenario_loads_into_a_new_tenant(server: MockServer) -> None:
    listed = mock(server, "GET", "/_mock/scenarios/")
    assert listed.status_code == 200 and "failing-snowflake" in [s["name"] for s in listed.json["results"]]
    loaded = mock(server, "POST", "/_mock/scenarios/", json={"name": "failing-snowflake"})
    assert loaded.status_code == 201
    api = as_tenant(server, loaded.json["tenant"])
    assert [e["id"] for e in api.get("/batch_exports/").json["results"]] == [loaded.json["exports"]["warehouse"]]


def test_a_scenario_that_fails_halfway_leaves_nothing_behind(server: MockServer) -> None:
    """The second export needs a feature flag the tenant lacks: 400, and no tenant, export or clock move."""
    before, now = server.store.snapshot(), mock(server, "GET", "/_mock/clock/").json
    text = (
        "clock:\n  start: '2026-03-01T00:00:00Z'\n"
        "exports:\n"
        "  - {key: first, destination: NoOp, interval: hour, history: {runs: 3}}\n"
        "  - {key: second, destination: Workflows, interval: hour}\n"
    )
    refused = mock(server, "POST", "/_mock/scenarios/", json={"yaml": text})
    assert (refused.status_code, refused.json["attr"]) == (400, "yaml")
    assert "exports[1]" in refused.json["detail"]
    assert server.store.snapshot() == before
    assert mock(server, "GET", "/_mock/clock/").json == now


def test_a_scenario_may_not_move_the_clock_more_than_a_century(server: MockServer) -> None:
    refused = mock(server, "POST", "/_mock/scenarios/", json={"yaml": "clock:\n  start: '9999-01-01T00:00:00Z'\n"})
    assert (refused.status_code, refused.json["attr"]) == (400, "yaml")
    assert refused.json["detail"] == (
        "yaml:2: clock.start: more than a century ahead of the clock (at most 2125-12-12T12:00:00+00:00)"
    )


def test_a_scenario_may_name_the_new_tenants_own_integration_by_id(server: MockServer) -> None:
    """The rehearsal's tenant gets the ids the real one will: its own id loads, another tenant's is refused."""
    other = mock(server, "POST", "/_mock/tenants/").json
    others = {i["kind"]: i["id"] for i in other["integrations"]}
    text = (
        "exports:\n  - {key: a, interval: hour,\n"
        "     destination: {type: Postgres, config: {database: d}, integration: %d}}\n"
    )
    refused = mock(server, "POST", "/_mock/scenarios/", json={"yaml": text % others["postgresql"]})
    assert refused.status_code == 400 and len(server.store.organizations) == 1
    own = others["postgresql"] + len(others)  # the next tenant's integrations follow the last one's
    loaded = mock(server, "POST", "/_mock/scenarios/", json={"yaml": text % own})
    assert loaded.status_code == 201
    assert {i["kind"]: i["id"] for i in loaded.json["tenant"]["integrations"]}["postgresql"] == own


def test_a_scenario_that_moves_the_clock_during_an_advance_does_not_deadlock(server: MockServer) -> None:
    """The advance holds the clock and waits for the store's lock between steps; the scenario
    used to hold the store's lock and wait for the clock. Now its jump takes the lock in short holds.

    A pacer ahead of the scheduler's holds the advance a moment once it has the clock, and the
    scenario is sent then: the two always overlap.
    """
    import threading
    import time

    api = as_tenant(server, mock(server, "POST", "/_mock/tenants/", json={}).json)
    for _ in range(10):
        api.create_export(interval="hour")
    advancing = threading.Event()

    def hold_a_moment(_target: Any, _stop_at: Any) -> None:
        if not advancing.is_set():
            advancing.set()
            time.sleep(0.3)  # the scenario request arrives meanwhile

    server.store.clock.pacers.insert(0, hold_a_moment)
    answers: dict[str, int] = {}

    def advance() -> None:
        answers["advance"] = mock(server, "POST", "/_mock/clock/advance/", json={"seconds": 30 * 86400}).status_code

    def scenario() -> None:
        text = "clock:\n  start: '2026-03-01T00:00:00Z'\nexports:\n  - {key: a, interval: hour}\n"
        answers["scenario"] = mock(server, "POST", "/_mock/scenarios/", json={"yaml": text}).status_code

    threads = [threading.Thread(target=advance, daemon=True), threading.Thread(target=scenario, daemon=True)]
    threads[0].start()
    assert advancing.wait(10)
    threads[1].start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    assert answers == {"advance": 200, "scenario": 201}
    assert mock(server, "GET", "/_mock/clock/").json["now"] >= "2026-03-01T00:00:00Z"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("exports:\n  - {key: a, name: {x: 1}}\n", "yaml:2: exports[0]: name: Not a valid string."),
        ("exports:\n  - {key: a, interval: day, timezone: Mars/Olympus}\n",
         'yaml:2: exports[0]: timezone: "Mars/Olympus" is not a valid choice.'),
        ("exports:\n  - {key: a, planned_outcomes: [{status: Completed, records_completed: {x: 1}}]}\n",
         "yaml:2: exports[0].planned_outcomes[0]: records_completed must be a whole number of at least 0, not "
         "{'x': 1}"),
        ("exports:\n  - {key: a, backfills: [{start_at: -99999999999999999999d}]}\n",
         "yaml:2: exports[0].backfills[0].start_at: '-99999999999999999999d' reaches past what a date can be"),
        ("exports:\n  - {key: a, history: {runs: 1000000}}\n",
         "yaml:2: exports[0].history.runs: at most 10,000 (got 1,000,000): a longer history is a clock advance's "
         "work"),
        ("file_downloads:\n  - {format: [1]}\n",
         'yaml:2: file_downloads[0]: file_download: file__format: "[1]" is not a valid choice.'),
        ("faults:\n  - {operation: batch_exports_list, status: 503, times: .inf}\n",
         "yaml:2: faults[0]: times must be a whole number, not inf"),
        ("faults:\n  - {operation: batch_exports_list, status: 503.5}\n",
         "yaml:2: faults[0]: a fault's status is a whole number, not 503.5"),
        ("faults:\n  - {operation: batch_exports_list, status: 503, body: !!set {a}}\n",
         "yaml:2: faults[0]: body must be JSON (objects, arrays, strings, numbers, booleans, null), not {'a'}"),
        ("faults:\n  - {operation: batch_exports_list, status: 200, headers: {Content-Length: '0'}}\n",
         'yaml:2: faults[0]: header "Content-Length": it frames the answer, which the server does itself.'),
        ("description: 5\n", "yaml:1: description: expected a string, got int"),
    ],
)  # fmt: skip
def test_a_scenario_passes_the_checks_a_request_would(server: MockServer, text: str, detail: str) -> None:
    """Scenario objects are made through the domain directly: they meet the spec's checks first."""
    before = server.store.snapshot()
    refused = mock(server, "POST", "/_mock/scenarios/", json={"yaml": text})
    assert (refused.status_code, refused.json["detail"]) == (400, detail)
    assert server.store.snapshot() == before and server.faults.active() == []
    assert server.errors == []


def test_nested_yaml_aliases_are_walked_once() -> None:
    """Seven levels of ten aliases each name ten million values: the line finder walks each node once."""
    from mockserver.fixtures import parse_scenario
    from mockserver.fixtures.scenarios import _Lines

    levels = ["a: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 7)]
    text = "\n".join(levels) + "\n"
    assert len(_Lines(text).lines) < 200  # one path per node written, not ten million
    with pytest.raises(ScenarioError, match="unknown field"):
        parse_scenario(text)


def test_options_on_the_control_plane_names_its_own_route(server: MockServer) -> None:
    answered = mock(server, "OPTIONS", "/_mock/clock/advance/")
    assert answered.status_code == 200
    assert (answered.json["name"], answered.json["description"]) == ("Mock clock advance", "")
