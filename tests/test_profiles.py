"""Profiles of PostHog's API: ``docs`` (the default, as the public docs describe it) and ``current``.

``current`` is today's PostHog: the ``hogql`` model, ``hogql_modifiers``, ``primary_key``,
``version_key`` and ``incremental_mode``, a model that never changes, and unpause's
``backfill`` read as a boolean. A server has a default profile (``serve --profile``) and
each tenant may pick its own (``POST /_mock/tenants/ {"profile": "current"}``); strict mode
checks every response against its own profile's document.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import Api, call, error
from werkzeug.test import Client

from mockserver import MockServer
from mockserver.cli import build_parser
from mockserver.domain.store import Store
from mockserver.errors import ValidationError
from mockserver.http.spec import PROFILES, for_profile, load_spec

NOOP = {"type": "NoOp", "config": {}}
HOGQL_EXPORT = {
    "name": "orders",
    "interval": "hour",
    "model": "hogql",
    "destination": NOOP,
    "hogql_query": "SELECT uuid AS id, event FROM events WHERE timestamp >= {data_interval_start}",
    "primary_key": ["id"],
    "incremental_mode": "MERGE",
}


@pytest.fixture
def current(server: MockServer) -> Api:
    return Api(server, server.store.create_tenant(profile="current", feature_flags=["hogql-batch-exports"]))


# -- choosing a profile --------------------------------------------------------------


def test_the_default_profile_is_docs(api: Api) -> None:
    assert api.tenant.profile == "docs"
    assert "incremental_mode" not in api.create_export()


def test_a_tenant_picks_its_profile_over_the_control_plane(server: MockServer) -> None:
    response = call(server, "POST", "/_mock/tenants/", json={"profile": "current"})

    assert response.status_code == 201
    assert response.json["profile"] == "current"
    tenant_api = Api(server, server.store.create_tenant(profile="current"))
    assert tenant_api.create_export()["incremental_mode"] == "APPEND"


def test_an_unknown_profile_is_refused(server: MockServer) -> None:
    response = Client(server).post("/_mock/tenants/", json={"profile": "newest"})

    assert response.status_code == 400
    assert response.json == error("invalid_choice", '"newest" is not a valid choice.', attr="profile")


def test_python_callers_get_the_same_refusal(server: MockServer) -> None:
    tenants_before = len(server.store.organizations)
    with pytest.raises(ValidationError, match=r'"newest" is not a valid choice\.') as refused:
        server.store.create_tenant(profile="newest")
    assert refused.value.attr == "profile"
    assert len(server.store.organizations) == tenants_before
    with pytest.raises(ValueError, match="unknown profile 'newest'; choose one of docs, current"):
        Store(profile="newest")


def test_a_server_profile_is_every_tenants_default(api: Api) -> None:
    server = MockServer(profile="current", strict=True)
    tenant_api = Api(server, server.store.create_tenant())

    assert tenant_api.tenant.profile == "current"
    assert tenant_api.create_export()["hogql_query"] is None
    with pytest.raises(ValueError, match="unknown profile"):
        MockServer(profile="newest")


def test_serve_takes_a_profile() -> None:
    assert build_parser().parse_args(["serve", "--profile", "current"]).profile == "current"
    assert build_parser().parse_args(["serve"]).profile == "docs"


def test_two_tenants_of_one_server_keep_their_own_profiles(api: Api, current: Api) -> None:
    assert current.post("/batch_exports/", json=HOGQL_EXPORT).status_code == 201
    response = api.post("/batch_exports/", json=HOGQL_EXPORT)

    assert response.status_code == 400
    assert response.json == error("invalid_choice", '"hogql" is not a valid choice.', attr="model")


# -- what the current profile adds ---------------------------------------------------


def test_current_creates_a_hogql_export_with_todays_fields(current: Api) -> None:
    response = current.post("/batch_exports/", json={**HOGQL_EXPORT, "hogql_modifiers": {"debug": True}})

    assert response.status_code == 201, response.json
    body = response.json
    assert body["model"] == "hogql"
    assert body["hogql_query"] == HOGQL_EXPORT["hogql_query"]
    assert (body["primary_key"], body["version_key"], body["incremental_mode"]) == (["id"], None, "MERGE")
    assert body["hogql_modifiers"] == {"debug": True}
    keys = list(body)
    assert keys[keys.index("latest_runs") + 1 : keys.index("schema")] == [
        "hogql_query", "hogql_modifiers", "primary_key", "version_key", "incremental_mode",
    ]  # fmt: skip


def test_the_hogql_model_needs_its_feature_flag(server: MockServer) -> None:
    no_flag = Api(server, server.store.create_tenant(profile="current"))

    response = no_flag.post("/batch_exports/", json=HOGQL_EXPORT)

    assert response.status_code == 403
    assert response.json == error(
        "permission_denied", "HogQL batch exports are not enabled for this team.", type="authentication_error"
    )


NOT_IN_QUERY = "contains columns that are not present in the query"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"hogql_query": None}, ("'hogql_query' is required when 'model' is 'hogql'", "hogql_query")),
        ({"primary_key": None}, ("'primary_key' is required when 'incremental_mode' is 'MERGE'", "primary_key")),
        ({"primary_key": ["id", "nope"]}, (f"'primary_key' {NOT_IN_QUERY}: nope", "primary_key")),
        ({"version_key": ["v"]}, (f"'version_key' {NOT_IN_QUERY}: v", "version_key")),
        ({"filters": []}, ("'filters' is only supported for 'events' not 'hogql' model", "filters")),
    ],
)
def test_current_validates_a_hogql_export(current: Api, change: dict[str, Any], expected: tuple[str, str]) -> None:
    response = current.post("/batch_exports/", json={**HOGQL_EXPORT, **change})

    assert response.status_code == 400
    assert response.json == error("invalid_input", *expected)
    assert current.get("/batch_exports/").json["count"] == 0


def test_current_checks_the_new_fields_shapes(current: Api) -> None:
    empty = current.post("/batch_exports/", json={**HOGQL_EXPORT, "primary_key": []})
    mode = current.post("/batch_exports/", json={**HOGQL_EXPORT, "incremental_mode": "UPSERT"})

    assert empty.json == error("empty", "This list may not be empty.", "primary_key")
    assert mode.json == error("invalid_choice", '"UPSERT" is not a valid choice.', "incremental_mode")


def test_hogql_fields_belong_to_the_hogql_model(current: Api) -> None:
    plain = {"name": "n", "interval": "hour", "destination": NOOP}

    for name, value in (("primary_key", ["a"]), ("version_key", ["a"]), ("hogql_modifiers", {})):
        response = current.post("/batch_exports/", json={**plain, name: value})
        assert response.json == error(
            "invalid_input", f"'{name}' is only supported for 'hogql' not 'events' model", name
        )
    response = current.post("/batch_exports/", json={**plain, "hogql_query": "SELECT event FROM events"})
    assert response.json == error(
        "invalid_input", "'hogql_query' is only supported for 'hogql' not 'events' model", "hogql_query"
    )


def test_a_query_on_another_model_is_refused_for_its_model_before_it_is_read(current: Api) -> None:
    """``current`` has no field-level query check: ``validate()`` names the model first, after every field error."""
    plain = {"name": "n", "interval": "hour", "destination": NOOP}
    persons = current.post("/batch_exports/", json={**plain, "model": "persons", "hogql_query": "SELECT 1"})
    assert persons.json == error(
        "invalid_input", "'hogql_query' is only supported for 'hogql' not 'persons' model", "hogql_query"
    )
    zone = current.post("/batch_exports/", json={**plain, "hogql_query": "SELECT 1", "timezone": "Nope/Nope"})
    assert zone.json == error("invalid_choice", '"Nope/Nope" is not a valid choice.', "timezone")


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("SELECT count() FROM events",
         "Every column in the SELECT clause must be a field or have an alias (e.g. `count() AS event_count`)"),
        ("SELECT event FROM events WHERE event = {unknown_placeholder}",
         "Unknown placeholder '{unknown_placeholder}'. Only {data_interval_start} and {data_interval_end} are "
         "supported in batch export queries"),
        ("SELECT event FROM events WHERE {filters}",
         "Unsupported placeholder. Only {data_interval_start} and {data_interval_end} are supported in batch "
         "export queries"),
    ],
)  # fmt: skip
def test_a_hogql_models_query_names_its_columns_and_uses_the_run_placeholders_only(
    current: Api, query: str, detail: str
) -> None:
    body = {**HOGQL_EXPORT, "hogql_query": query, "primary_key": ["event"]}
    assert current.post("/batch_exports/", json=body).json == error("invalid_input", detail, "hogql_query")


def test_current_trims_the_query_and_key_columns_and_refuses_blank_ones(current: Api) -> None:
    """DRF's ``CharField`` trims whitespace, then refuses what is left blank."""
    query = str(HOGQL_EXPORT["hogql_query"])
    padded = {**HOGQL_EXPORT, "hogql_query": f"  {query}\n", "primary_key": [" id "]}
    created = current.post("/batch_exports/", json=padded)
    assert created.status_code == 201, created.json
    assert (created.json["hogql_query"], created.json["primary_key"]) == (query, ["id"])
    blank = current.post("/batch_exports/", json={**HOGQL_EXPORT, "hogql_query": "   "})
    assert blank.json == error("blank", "This field may not be blank.", "hogql_query")
    blank_key = current.post("/batch_exports/", json={**HOGQL_EXPORT, "version_key": [" "]})
    assert blank_key.json == error("blank", "This field may not be blank.", "version_key__0")


def test_modifiers_set_to_null_are_not_stored(current: Api) -> None:
    """PostHog stores ``model_dump(exclude_none=True)``."""
    body = {**HOGQL_EXPORT, "hogql_modifiers": {"convertToProjectTimezone": None, "personsOnEventsMode": "disabled"}}
    created = current.post("/batch_exports/", json=body)
    assert created.json["hogql_modifiers"] == {"personsOnEventsMode": "disabled"}


def test_null_clears_a_grandfathered_events_exports_query(server: MockServer) -> None:
    """A project that had an events export with a query keeps that feature; null removes the query and its schema."""
    older = Api(server, server.store.create_tenant())  # the default profile, docs, when it was made
    export = older.create_export(hogql_query="SELECT event FROM events")
    assert export["schema"] is not None
    server.store.default_profile = "current"  # the same project, met by today's PostHog
    cleared = older.patch(f"/batch_exports/{export['id']}/", json={"hogql_query": None})
    assert cleared.status_code == 200, cleared.json
    assert (cleared.json["schema"], cleared.json["hogql_query"]) == (None, None)


def test_current_never_changes_a_model(current: Api) -> None:
    export = current.create_export()

    response = current.patch(f"/batch_exports/{export['id']}/", json={"model": "persons"})

    assert response.status_code == 400
    assert response.json == error(
        "invalid_input", "Changing models is not supported. Create a new batch export instead.", "model"
    )


def test_docs_ignores_todays_fields_as_unknown_keys(api: Api) -> None:
    created = api.create_export(incremental_mode="MERGE", primary_key=["x"])

    assert "incremental_mode" not in created and "primary_key" not in created


def test_current_lets_legacy_parquet_names_stay_on_but_never_turn_on(
    server: MockServer, api: Api, current: Api
) -> None:
    """Today's PostHog stores ``legacy_parquet_extension: false`` on a new object-store export, and takes
    ``true`` only for an export that already writes codec-named Parquet files; ``docs`` has neither rule."""

    def s3(target: Api, **config: Any) -> dict[str, Any]:
        base = {"bucket_name": "b", "region": "eu-west-1", "prefix": "p/", **config}
        return {"type": "AwsS3", "config": base, "integration": target.integration("aws-s3")}

    def create(target: Api, **config: Any) -> Any:
        body = {"name": "n", "interval": "hour", "destination": s3(target, **config)}
        return target.post("/batch_exports/", json=body)

    refused = create(current, legacy_parquet_extension=True)
    assert refused.status_code == 400
    assert refused.json["attr"] == "destination"
    assert refused.json["detail"].startswith("'legacy_parquet_extension' can only stay on for an export that")
    assert "legacy_parquet_extension" not in create(api).json["destination"]["config"]
    assert create(api, legacy_parquet_extension=True).status_code == 201

    made = create(current, file_format="Parquet", compression="zstd")
    assert made.status_code == 201, made.json
    assert made.json["destination"]["config"]["legacy_parquet_extension"] is False
    path = f"/batch_exports/{made.json['id']}/"
    keep = {"destination": {"type": "AwsS3", "config": {"legacy_parquet_extension": True}}}
    assert current.patch(path, json=keep).status_code == 400  # a new export never had legacy names
    # An export from before the flag existed, writing compressed Parquet, has legacy names: they may stay.
    del server.store.batch_exports[made.json["id"]].destination.config["legacy_parquet_extension"]
    assert current.patch(path, json=keep).status_code == 200


def test_current_reads_unpauses_backfill_as_a_boolean(current: Api) -> None:
    export = current.create_export(paused=True)

    refused = current.post(f"/batch_exports/{export['id']}/unpause/", json={"backfill": "maybe"})
    accepted = current.post(f"/batch_exports/{export['id']}/unpause/", json={"backfill": "false"})

    assert refused.status_code == 400
    assert refused.json == error("invalid_input", "Must be a valid boolean.", "backfill")
    assert accepted.status_code == 200
    backfills = current.get(f"/batch_exports/{export['id']}/backfills/").json["results"]
    assert backfills == []  # "false" is false in today's PostHog


# -- the spec covers both ------------------------------------------------------------


def test_the_spec_marks_what_only_current_has() -> None:
    docs, current = (load_spec(profile=p).document["components"]["schemas"] for p in PROFILES)

    assert "incremental_mode" not in docs["BatchExportRequest"]["properties"]
    assert current["BatchExportRequest"]["properties"]["incremental_mode"]["enum"] == ["APPEND", "MERGE"]
    assert "hogql" not in docs["BatchExportRequest"]["properties"]["model"]["enum"]
    assert "hogql" in current["BatchExportRequest"]["properties"]["model"]["enum"]
    assert "incremental_mode" in current["BatchExport"]["required"]


def test_for_profile_drops_other_profiles_nodes_and_applies_overrides() -> None:
    node = {
        "properties": {"a": {"type": "string"}, "b": {"type": "string", "x-profile": "current"}},
        "enum": [1],
        "x-profile-override": {"current": {"enum": [1, 2]}},
    }

    assert for_profile(node, "docs") == {"properties": {"a": {"type": "string"}}, "enum": [1]}
    assert for_profile(node, "current") == {
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "enum": [1, 2],
    }
