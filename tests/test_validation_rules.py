"""PostHog's validation of batch-export writes, message for message.

The rules are ``BatchExportSerializer`` and its destination serializer
(``products/batch_exports/backend/api/batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd``),
the destination checks of
``products/batch_exports/backend/service.py@02b1f511eba060f6e18d0e9100bd270d295141b8``,
and PostHog's own tests of them, in ``products/batch_exports/backend/tests/api/``:
``test_create.py@1ea05ce0476f219b122332644395a9207a4d532e`` and
``test_update.py@0f759a5a455345c44d6a56e9a997146ceaf4e033``.

Every error body is ``{type, code, detail, attr}`` (drf-exceptions-hog, set to report one
error: ``exceptions_hog/settings.py@15fa9d471882a3bec1a7551c7d26252bc13ec98b`` in
``PostHog/drf-exceptions-hog``) and reports only the first problem: fields are checked in
the serializer's order (``name, model, destination, interval, paused, last_paused_at,
start_at, end_at, hogql_query, filters, timezone, offset_day, offset_hour``), a
feature-flag refusal (403) aborts at once, and the object-level rules run last with
``attr: null``.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import Api, JsonResponse, error

from mockserver import MockServer, Tenant

NOOP = {"type": "NoOp", "config": {}}
HTTP_URL = "https://us.i.posthog.com/batch/"
NO_HIGH_FREQUENCY = error(
    "permission_denied", "Higher frequency batch exports are not enabled for this team.", type="authentication_error"
)

#: A minimal valid config and the integration kind of every integration-backed type.
INTEGRATED: dict[str, tuple[dict[str, Any], str]] = {
    "AwsS3": ({"bucket_name": "b", "region": "eu-west-1", "prefix": "p"}, "aws-s3"),
    "S3Compatible": ({"bucket_name": "b", "region": "auto", "prefix": "p"}, "s3-compatible"),
    "Snowflake": ({"database": "d", "warehouse": "w", "schema": "s"}, "snowflake"),
    "Postgres": ({"database": "d"}, "postgresql"),
    "Redshift": ({"database": "d", "host": "cluster.example.com"}, "aws-redshift"),
    "BigQuery": ({"dataset_id": "d"}, "google-cloud-service-account"),
    "Databricks": ({"http_path": "/sql/1", "catalog": "c", "schema": "s", "table_name": "t"}, "databricks"),
    "AzureBlob": ({"container_name": "c"}, "azure-blob"),
}


def invalid(detail: str, attr: str | None = "destination") -> dict[str, Any]:
    return error("invalid_input", detail, attr)


def config_error(detail: str) -> dict[str, Any]:
    """Errors of the generic config check come from the nested serializer's ``validate()``."""
    return error("invalid_input", detail, "destination__non_field_errors")


def create(api: Api, **overrides: Any) -> JsonResponse:
    """POST a valid NoOp export with ``overrides`` applied (``...`` removes a key)."""
    body = {"name": "n", "interval": "hour", "destination": NOOP, **overrides}
    return api.post("/batch_exports/", json={k: v for k, v in body.items() if v is not ...})


def integrated(api: Api, dest_type: str, **config: Any) -> dict[str, Any]:
    """A valid destination of an integration-backed type, with ``config`` merged in."""
    base, kind = INTEGRATED[dest_type]
    return {"type": dest_type, "config": {**base, **config}, "integration": api.integration(kind)}


def patch(api: Api, export: dict[str, Any], body: dict[str, Any]) -> JsonResponse:
    return api.patch(f"/batch_exports/{export['id']}/", json=body)


def flagged(server: MockServer, *flags: str) -> Api:
    return Api(server, server.store.create_tenant(feature_flags=list(flags)))


# -- name, model ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code", "detail"),
    [
        (..., "required", "This field is required."),
        (None, "null", "This field may not be null."),
        ("", "blank", "This field may not be blank."),
        ("   ", "blank", "This field may not be blank."),
    ],
)
def test_a_name_is_required(api: Api, name: Any, code: str, detail: str) -> None:
    response = create(api, name=name)

    assert response.status_code == 400
    assert response.json == error(code, detail, "name")


def test_a_model_must_be_a_choice(api: Api) -> None:
    response = create(api, model="hogql")

    assert response.status_code == 400
    assert response.json == error("invalid_choice", '"hogql" is not a valid choice.', "model")


@pytest.mark.parametrize(
    ("field", "value", "shown"), [("model", True, "True"), ("timezone", 3, "3"), ("interval", 1.5, "1.5")]
)
def test_a_choice_error_quotes_the_value_as_python_prints_it(api: Api, field: str, value: Any, shown: str) -> None:
    response = create(api, **{field: value})

    assert response.status_code == 400
    assert response.json == error("invalid_choice", f'"{shown}" is not a valid choice.', field)


@pytest.mark.parametrize("model", ["events", "persons", "sessions"])
def test_the_models(api: Api, model: str) -> None:
    assert create(api, model=model).json["model"] == model


def test_the_model_defaults_to_events(api: Api) -> None:
    assert create(api).json["model"] == "events"


# -- destination: structure ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (..., error("required", "This field is required.", "destination")),
        (None, error("null", "This field may not be null.", "destination")),
        ("NoOp", error("invalid_input", "Invalid data. Expected a dictionary, but got str.", "destination")),
        ({"config": {}}, error("required", "This field is required.", "destination__type")),
        (
            {"type": "Kafka", "config": {}},
            error("invalid_choice", '"Kafka" is not a valid choice.', "destination__type"),
        ),
        ({"type": "NoOp"}, error("required", "This field is required.", "destination__config")),
        ({"type": "NoOp", "config": None}, error("null", "This field may not be null.", "destination__config")),
    ],
)
def test_the_destination_needs_a_type_and_a_config(api: Api, destination: Any, expected: dict[str, Any]) -> None:
    response = create(api, destination=destination)

    assert response.status_code == 400
    assert response.json == expected


@pytest.mark.parametrize("key", ["integration", "integration_id"])
def test_an_integration_of_another_tenant_does_not_exist(server: MockServer, api: Api, key: str) -> None:
    foreign = server.store.create_tenant().integrations[0]["id"]

    response = create(api, destination={"type": "NoOp", "config": {}, key: foreign})

    assert response.status_code == 400
    assert response.json == error(
        "does_not_exist", f'Invalid pk "{foreign}" - object does not exist.', f"destination__{key}"
    )


def test_an_unknown_integration_does_not_exist(api: Api) -> None:
    response = create(api, destination={"type": "NoOp", "config": {}, "integration": 987654})

    assert response.status_code == 400
    assert response.json == error(
        "does_not_exist", 'Invalid pk "987654" - object does not exist.', "destination__integration"
    )


def test_an_integration_must_be_an_integer(api: Api) -> None:
    response = create(api, destination={"type": "NoOp", "config": {}, "integration": "aws"})

    assert response.status_code == 400
    assert response.json == error(
        "incorrect_type", "Incorrect type. Expected pk value, received str.", "destination__integration"
    )


def test_integration_id_is_a_write_only_synonym_of_integration(api: Api) -> None:
    destination = integrated(api, "BigQuery")
    destination["integration_id"] = destination.pop("integration")

    response = create(api, destination=destination)

    assert response.status_code == 201
    assert response.json["destination"] == {
        "type": "BigQuery",
        "config": {"dataset_id": "d"},
        "integration": api.integration("google-cloud-service-account"),
    }


# -- destination: the generic config check -------------------------------------------------


def test_unknown_config_keys_are_listed_sorted(api: Api) -> None:
    response = create(api, destination={"type": "NoOp", "config": {"hello2": 1, "hello": 2, "arg": "x"}})

    assert response.status_code == 400
    assert response.json == config_error("Configuration has unknown field/s: 'hello', 'hello2'")


def test_a_missing_required_config_key_is_named(api: Api) -> None:
    response = create(api, destination={"type": "HTTP", "config": {"url": HTTP_URL}})

    assert response.status_code == 400
    assert response.json == config_error("Configuration missing required field: 'token'")


@pytest.mark.parametrize(
    ("value", "got"), [(3, "int"), (None, "NoneType"), (["a"], "list"), ({"a": 1}, "dict"), (True, "bool")]
)
def test_a_config_value_of_the_wrong_type_is_refused(api: Api, value: Any, got: str) -> None:
    response = create(api, destination={"type": "HTTP", "config": {"url": HTTP_URL, "token": value}})

    assert response.status_code == 400
    assert response.json == config_error(f"Configuration has invalid type: got '{got}', expected 'str'")


def test_redshifts_mode_is_a_literal_whose_type_posthog_never_checks(api: Api) -> None:
    """``mode: Literal["COPY", "INSERT"]`` is no class: PostHog's type loop skips it and stores what came."""
    response = create(api, destination=integrated(api, "Redshift", mode=5))

    assert response.status_code == 201
    assert response.json["destination"]["config"]["mode"] == 5


def test_a_string_that_is_not_a_number_is_refused_for_an_int_key(api: Api) -> None:
    destination = integrated(api, "Redshift", port="fifty")

    response = create(api, destination=destination)

    assert response.status_code == 400
    assert response.json == config_error("Configuration has invalid type: got 'str', expected 'int'")


def test_an_optional_int_key_takes_what_int_reads_and_refuses_the_rest(api: Api) -> None:
    """Postgres' ``port`` is ``int | None``: PostHog's type check skips it, and scheduling the
    export then reads a string with ``int()``, which fails (a 500 there) on ``"fifty"``."""
    assert create(api, destination=integrated(api, "Postgres", port=" 5433")).status_code == 201
    assert create(api, destination=integrated(api, "Postgres", port=6543.5)).status_code == 201  # not a string

    response = create(api, destination=integrated(api, "Postgres", port="fifty"))

    assert response.status_code == 400
    assert response.json == config_error("Configuration has invalid type: got 'str', expected 'int'")


@pytest.mark.parametrize("key", ["team_id", "interval", "timezone", "batch_export_id", "integration_id"])
def test_a_config_key_the_schedule_sets_itself_is_refused(api: Api, key: str) -> None:
    """PostHog passes these workflow inputs by name beside the config's keys (a 500 there);
    ``exclude_events`` and the other base inputs are legal config keys."""
    assert create(api, destination=integrated(api, "Postgres", exclude_events=["$pageview"])).status_code == 201

    response = create(api, destination=integrated(api, "Postgres", **{key: "1"}))

    assert response.status_code == 400
    assert response.json == config_error(f"Configuration has unknown field/s: '{key}'")
    assert api.get("/batch_exports/").json["count"] == 1  # nothing was stored


@pytest.mark.parametrize(("config", "kind"), [([], "list"), ("abc", "str")])
def test_a_config_that_is_not_an_object_is_refused_with_drfs_dict_message(api: Api, config: Any, kind: str) -> None:
    response = create(api, destination={"type": "NoOp", "config": config})

    assert response.status_code == 400
    assert response.json == error(
        "not_a_dict", f'Expected a dictionary of items but got type "{kind}".', "destination__config"
    )


def test_an_update_is_checked_as_a_create_is(api: Api) -> None:
    export = create(api, destination=integrated(api, "Postgres")).json
    response = api.patch(
        f"/batch_exports/{export['id']}/", json={"destination": {"type": "Postgres", "config": {"port": "x"}}}
    )
    assert response.status_code == 400
    assert response.json == config_error("Configuration has invalid type: got 'str', expected 'int'")
    assert api.get(f"/batch_exports/{export['id']}/").json["destination"] == export["destination"]


@pytest.mark.parametrize(
    ("dest_type", "sent", "shown"),
    [
        ("Postgres", {"port": "5433"}, {"port": 5433}),
        ("AzureBlob", {"max_file_size_mb": "50"}, {"max_file_size_mb": 50}),
        ("AwsS3", {"max_file_size_mb": " 64"}, {"max_file_size_mb": 64}),
        # Base keys are never type-checked, but are shown by their declared types.
        ("Postgres", {"is_backfill": "yes", "is_earliest_backfill": "TRUE"},
         {"is_backfill": False, "is_earliest_backfill": True}),
    ],
)  # fmt: skip
def test_strings_in_int_and_bool_keys_are_shown_as_their_declared_types(
    api: Api, dest_type: str, sent: dict[str, Any], shown: dict[str, Any]
) -> None:
    created = create(api, destination=integrated(api, dest_type, **sent))
    assert created.status_code == 201, created.json
    export_id = created.json["id"]

    for response in (created, api.get(f"/batch_exports/{export_id}/")):
        config = response.json["destination"]["config"]
        assert {key: config[key] for key in shown} == shown


def test_a_digit_int_cannot_read_is_no_integration_id_and_lists_still_answer(api: Api) -> None:
    """``"²"`` is a digit to ``str.isdigit`` and not to ``int``: PostHog fails there; the fake keeps the text."""
    copy_inputs = {"s3_bucket": "b", "region_name": "r", "authorization": "²", "bucket_credentials": "²"}
    created = create(api, destination=integrated(api, "Redshift", copy_inputs=copy_inputs))
    assert created.status_code == 201
    assert created.json["destination"]["config"]["copy_inputs"]["authorization"] == "²"
    assert api.get("/batch_exports/").status_code == 200


def test_redshift_copy_integration_ids_given_as_digits_are_shown_as_ints(api: Api) -> None:
    s3 = api.integration("aws-s3")
    copy_inputs = {"s3_bucket": "b", "region_name": "r", "authorization": str(s3), "bucket_credentials": str(s3)}

    response = create(api, destination=integrated(api, "Redshift", mode="COPY", copy_inputs=copy_inputs))

    assert response.status_code == 201
    shown = response.json["destination"]["config"]["copy_inputs"]
    assert (shown["authorization"], shown["bucket_credentials"]) == (s3, s3)


def test_numeric_and_boolean_strings_are_converted(api: Api) -> None:
    destination = integrated(api, "Postgres", port="5432", has_self_signed_cert="True")

    response = create(api, destination=destination)

    assert response.status_code == 201
    assert response.json["destination"]["config"] == {"database": "d", "port": 5432, "has_self_signed_cert": True}


def test_a_boolean_string_other_than_a_truthy_word_is_false(api: Api) -> None:
    destination = integrated(api, "Postgres", has_self_signed_cert="nope")

    assert create(api, destination=destination).json["destination"]["config"]["has_self_signed_cert"] is False


def test_base_input_keys_are_allowed_for_every_type_and_not_type_checked(api: Api) -> None:
    config = {"include_events": ["$pageview"], "exclude_events": ["$identify"], "data_interval_end": 7}

    response = create(api, destination={"type": "NoOp", "config": config})

    assert response.status_code == 201
    assert response.json["destination"]["config"] == config


# -- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dest_type", "sent", "shown"),
    [
        (
            "Postgres",
            {"user": "admin", "password": "hunter2", "host": "db.example.com", "port": 5432},
            {"host": "db.example.com", "port": 5432},
        ),
        (
            "BigQuery",
            {"project_id": "p", "private_key": "k", "private_key_id": "i", "client_email": "e", "token_uri": "t"},
            {"project_id": "p"},
        ),
        ("Snowflake", {"role": "r"}, {"role": "r"}),
        (
            "Redshift",
            {
                "user": "u",
                "password": "p",
                "mode": "COPY",
                "copy_inputs": {
                    "s3_bucket": "b",
                    "region_name": "r",
                    "authorization": {"aws_access_key_id": "a", "aws_secret_access_key": "s"},
                    "bucket_credentials": {"aws_access_key_id": "a", "aws_secret_access_key": "s"},
                },
            },
            {
                "mode": "COPY",
                "copy_inputs": {"s3_bucket": "b", "region_name": "r", "authorization": {}, "bucket_credentials": {}},
            },
        ),
    ],
)
def test_secrets_are_stripped_from_responses_at_every_depth(
    api: Api, server: MockServer, dest_type: str, sent: dict[str, Any], shown: dict[str, Any]
) -> None:
    base, _ = INTEGRATED[dest_type]

    response = create(api, destination=integrated(api, dest_type, **sent))

    assert response.status_code == 201
    assert response.json["destination"]["config"] == {**base, **shown}
    assert server.store.batch_exports[response.json["id"]].destination.config == {**base, **sent}


def test_the_http_token_is_a_secret(api: Api) -> None:
    response = create(api, destination={"type": "HTTP", "config": {"url": HTTP_URL, "token": "phc_secret"}})

    assert response.json["destination"] == {"type": "HTTP", "config": {"url": HTTP_URL}, "integration": None}


def test_a_patch_without_secrets_keeps_them(api: Api) -> None:
    export = create(api, destination=integrated(api, "Postgres", user="admin", password="hunter2")).json

    response = patch(api, export, {"destination": {"type": "Postgres", "config": {"table_name": "events_v2"}}})
    state = api.get("/_mock/state/").json

    assert response.status_code == 200
    assert response.json["destination"]["config"] == {"database": "d", "table_name": "events_v2"}
    [stored] = state["organizations"][0]["projects"][0]["batch_exports"]
    assert stored["destination"]["config"] == {
        "database": "d",
        "user": "admin",
        "password": "hunter2",
        "table_name": "events_v2",
    }


def test_the_config_is_merged_recursively(api: Api, server: MockServer) -> None:
    copy_inputs = {
        "s3_bucket": "b",
        "region_name": "r",
        "authorization": "arn:aws:iam::1:role/r",
        "bucket_credentials": {"aws_access_key_id": "a", "aws_secret_access_key": "s"},
    }
    export = create(api, destination=integrated(api, "Redshift", mode="COPY", copy_inputs=copy_inputs)).json

    destination = {
        "type": "Redshift",
        "config": {"copy_inputs": {"s3_bucket": "b2"}},
        "integration": api.integration("aws-redshift"),
    }

    response = patch(api, export, {"destination": destination})

    assert response.status_code == 200
    stored = server.store.batch_exports[export["id"]].destination.config
    assert stored["copy_inputs"] == {**copy_inputs, "s3_bucket": "b2"}
    assert stored["host"] == "cluster.example.com"


def test_a_put_merges_the_config_too(api: Api, server: MockServer) -> None:
    export = create(api, destination=integrated(api, "Postgres", password="hunter2")).json
    body = {"name": "n", "interval": "hour", "destination": {"type": "Postgres", "config": {"database": "d2"}}}

    response = api.put(f"/batch_exports/{export['id']}/", json=body)

    assert response.status_code == 200
    assert server.store.batch_exports[export["id"]].destination.config == {"database": "d2", "password": "hunter2"}


def test_a_put_checks_required_config_keys(api: Api) -> None:
    export = create(api, destination=integrated(api, "Postgres")).json
    body = {"name": "n", "interval": "hour", "destination": {"type": "Postgres", "config": {}}}

    response = api.put(f"/batch_exports/{export['id']}/", json=body)

    assert response.status_code == 400
    assert response.json == config_error("Configuration missing required field: 'database'")


def test_a_patch_skips_the_required_config_keys(api: Api) -> None:
    export = create(api, destination=integrated(api, "Databricks")).json
    destination = {"type": "Databricks", "config": {"table_name": "t2"}, "integration": api.integration("databricks")}

    response = patch(api, export, {"destination": destination})

    assert response.status_code == 200
    assert response.json["destination"]["config"]["table_name"] == "t2"


def test_a_patch_still_refuses_unknown_config_keys(api: Api) -> None:
    export = create(api).json

    response = patch(api, export, {"destination": {"type": "NoOp", "config": {"nope": 1}}})

    assert response.status_code == 400
    assert response.json == config_error("Configuration has unknown field/s: 'nope'")


def test_a_patch_destination_needs_type_and_config(api: Api) -> None:
    """PostHog answers 500 here (KeyError); the fake reports the missing key."""
    export = create(api).json

    response = patch(api, export, {"destination": {"config": {"arg": "x"}}})

    assert response.status_code == 400
    assert response.json == error("required", "This field is required.", "destination__type")


# -- destination type ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_the_destination_type_cannot_change(api: Api, method: str) -> None:
    export = create(api).json
    body = {"name": "n", "interval": "hour", "destination": {"type": "HTTP", "config": {"url": HTTP_URL, "token": "t"}}}

    response = api.request(method, f"/batch_exports/{export['id']}/", json=body)

    assert response.status_code == 400
    assert response.json == invalid(
        "Cannot change destination type from 'NoOp' to 'HTTP'. "
        "Delete this batch export and create a new one with the new destination type."
    )


S3_DEPRECATED = (
    "The 'S3' destination type is deprecated and can no longer be used. "
    "Use 'AwsS3' for AWS S3, or 'S3Compatible' for S3-compatible storage."
)


def test_the_legacy_s3_type_is_refused(api: Api) -> None:
    config = {"bucket_name": "b", "region": "r", "prefix": "p", "aws_access_key_id": "a", "aws_secret_access_key": "s"}

    response = create(api, destination={"type": "S3", "config": config})

    assert response.status_code == 400
    assert response.json == invalid(S3_DEPRECATED)


def test_the_legacy_s3_type_is_refused_before_the_config_check(api: Api) -> None:
    response = create(api, destination={"type": "S3", "config": {"not_a_key": 1}})

    assert response.json == invalid(S3_DEPRECATED)


def test_switching_to_s3_reports_the_type_change_first(api: Api) -> None:
    export = create(api).json

    response = patch(api, export, {"destination": {"type": "S3", "config": {}}})

    assert response.json == invalid(
        "Cannot change destination type from 'NoOp' to 'S3'. "
        "Delete this batch export and create a new one with the new destination type."
    )


# -- integrations ----------------------------------------------------------------------------

REQUIRED_NAMES = {"AzureBlob": "Azure Blob"}


@pytest.mark.parametrize("dest_type", list(INTEGRATED))
def test_every_integration_backed_type_creates_with_its_integration(api: Api, dest_type: str) -> None:
    destination = integrated(api, dest_type)

    response = create(api, destination=destination)

    assert response.status_code == 201
    assert response.json["destination"] == destination


@pytest.mark.parametrize("dest_type", list(INTEGRATED))
def test_every_integration_backed_type_needs_an_integration_on_create(api: Api, dest_type: str) -> None:
    destination = integrated(api, dest_type)
    del destination["integration"]

    response = create(api, destination=destination)

    assert response.status_code == 400
    assert response.json == invalid(
        f"Integration is required for {REQUIRED_NAMES.get(dest_type, dest_type)} batch exports"
    )


@pytest.mark.parametrize(
    ("dest_type", "detail"),
    [
        ("AwsS3", "Integration provided is not an AWS S3 integration (got kind='snowflake')"),
        ("S3Compatible", "Integration provided is not an AWS S3 integration (got kind='snowflake')"),
        ("Postgres", "Integration is not a PostgreSQL integration."),
        ("Redshift", "Integration is not a Redshift integration."),
        ("BigQuery", "Integration is not a Google Cloud service account integration."),
        ("Databricks", "Integration is not a Databricks integration."),
        ("AzureBlob", "Integration is not an Azure Blob integration."),
    ],
)
def test_an_integration_of_the_wrong_kind_is_refused(api: Api, dest_type: str, detail: str) -> None:
    destination = {**integrated(api, dest_type), "integration": api.integration("snowflake")}

    response = create(api, destination=destination)

    assert response.status_code == 400
    assert response.json == invalid(detail)


def test_a_snowflake_integration_must_be_a_snowflake_one(api: Api) -> None:
    destination = {**integrated(api, "Snowflake"), "integration": api.integration("aws-s3")}

    response = create(api, destination=destination)

    assert response.json == invalid("Integration is not a Snowflake integration.")


@pytest.mark.parametrize("dest_type", ["AwsS3", "S3Compatible"])
def test_an_s3_patch_without_integration_keeps_the_current_one(api: Api, dest_type: str) -> None:
    export = create(api, destination=integrated(api, dest_type)).json

    response = patch(api, export, {"destination": {"type": dest_type, "config": {"prefix": "p2"}}})

    assert response.status_code == 200
    assert response.json["destination"]["integration"] == export["destination"]["integration"]


@pytest.mark.parametrize("dest_type", ["AwsS3", "S3Compatible", "BigQuery", "Databricks", "AzureBlob"])
def test_removing_a_required_integration_is_refused(api: Api, dest_type: str) -> None:
    export = create(api, destination=integrated(api, dest_type)).json

    response = patch(api, export, {"destination": {"type": dest_type, "config": {}, "integration": None}})

    assert response.status_code == 400
    assert response.json == invalid(
        f"Integration is required for {REQUIRED_NAMES.get(dest_type, dest_type)} batch exports"
    )


@pytest.mark.parametrize("dest_type", ["BigQuery", "Databricks", "AzureBlob"])
def test_a_destination_patch_of_these_types_must_resend_the_integration(api: Api, dest_type: str) -> None:
    export = create(api, destination=integrated(api, dest_type)).json

    response = patch(api, export, {"destination": {"type": dest_type, "config": {}}})

    assert response.status_code == 400
    assert response.json == invalid(
        f"Integration is required for {REQUIRED_NAMES.get(dest_type, dest_type)} batch exports"
    )


@pytest.mark.parametrize("dest_type", ["Snowflake", "Redshift"])
def test_snowflake_and_redshift_refuse_to_drop_an_integration(api: Api, dest_type: str) -> None:
    export = create(api, destination=integrated(api, dest_type)).json

    response = patch(api, export, {"destination": {"type": dest_type, "config": {}}})

    assert response.status_code == 400
    assert response.json == invalid(
        f"Cannot remove the integration from a {dest_type} batch export that uses one. "
        "Re-send its `integration` to keep it (or a different one to swap)."
    )


def test_a_postgres_update_may_drop_its_integration(api: Api) -> None:
    export = create(api, destination=integrated(api, "Postgres")).json

    response = patch(api, export, {"destination": {"type": "Postgres", "config": {}, "integration": None}})

    assert response.status_code == 200
    assert response.json["destination"]["integration"] is None


def test_a_postgres_patch_without_integration_keeps_it(api: Api) -> None:
    export = create(api, destination=integrated(api, "Postgres")).json

    response = patch(api, export, {"destination": {"type": "Postgres", "config": {"schema": "s"}}})

    assert response.json["destination"]["integration"] == api.integration("postgresql")


def test_a_patch_without_a_destination_leaves_it_alone(api: Api) -> None:
    export = create(api, destination=integrated(api, "BigQuery")).json

    response = patch(api, export, {"name": "renamed"})

    assert response.status_code == 200
    assert response.json["destination"] == export["destination"]


# -- type-specific rules ---------------------------------------------------------------------


@pytest.mark.parametrize("dest_type", ["AwsS3", "S3Compatible"])
def test_s3_inputs_may_not_be_blank(api: Api, dest_type: str) -> None:
    response = create(api, destination=integrated(api, dest_type, bucket_name="", prefix="  "))

    assert response.status_code == 400
    assert response.json == invalid("The following inputs are empty: ['bucket_name', 'prefix']")


def test_blank_s3_inputs_are_reported_before_a_wrong_integration(api: Api) -> None:
    destination = {**integrated(api, "AwsS3", region=""), "integration": api.integration("databricks")}

    assert create(api, destination=destination).json == invalid("The following inputs are empty: ['region']")


@pytest.mark.parametrize("dest_type", ["AwsS3", "S3Compatible", "AzureBlob"])
def test_the_file_format_must_be_supported(api: Api, dest_type: str) -> None:
    response = create(api, destination=integrated(api, dest_type, file_format="CSV"))

    assert response.status_code == 400
    assert response.json == invalid(
        "File format CSV is not supported. Supported file formats are ['Parquet', 'JSONLines']"
    )


@pytest.mark.parametrize("dest_type", ["AwsS3", "S3Compatible", "AzureBlob"])
def test_the_compression_must_suit_the_file_format(api: Api, dest_type: str) -> None:
    response = create(api, destination=integrated(api, dest_type, compression="zstd"))

    assert response.status_code == 400
    assert response.json == invalid(
        "Compression zstd is not supported for file format JSONLines. Supported compressions are ['gzip', 'brotli']"
    )


@pytest.mark.parametrize(
    ("file_format", "compression"), [("Parquet", "zstd"), ("Parquet", "snappy"), ("JSONLines", "gzip")]
)
def test_supported_formats_and_compressions(api: Api, file_format: str, compression: str) -> None:
    destination = integrated(api, "AwsS3", file_format=file_format, compression=compression)

    assert create(api, destination=destination).status_code == 201


def test_a_patch_checks_the_compression_against_the_stored_format(api: Api) -> None:
    export = create(api, destination=integrated(api, "AwsS3", file_format="Parquet")).json

    response = patch(api, export, {"destination": {"type": "AwsS3", "config": {"compression": "lz4"}}})

    assert response.status_code == 200
    assert response.json["destination"]["config"]["compression"] == "lz4"


@pytest.mark.parametrize("url", ["https://us.i.posthog.com/batch/", "https://eu.i.posthog.com/batch/"])
def test_http_exports_accept_posthogs_own_batch_urls(api: Api, url: str) -> None:
    assert create(api, destination={"type": "HTTP", "config": {"url": url, "token": "t"}}).status_code == 201


def test_http_exports_refuse_other_urls(api: Api) -> None:
    response = create(api, destination={"type": "HTTP", "config": {"url": "http://169.254.169.254/", "token": "t"}})

    assert response.status_code == 400
    assert response.json == invalid("Invalid destination URL: http://169.254.169.254/")


def test_http_exports_only_export_events(api: Api) -> None:
    response = create(api, model="persons", destination={"type": "HTTP", "config": {"url": HTTP_URL, "token": "t"}})

    assert response.status_code == 400
    assert response.json == invalid("HTTP batch exports only support the events model", None)


def test_an_aws_redshift_integration_needs_a_host(api: Api) -> None:
    destination = integrated(api, "Redshift")
    del destination["config"]["host"]

    response = create(api, destination=destination)

    assert response.status_code == 400
    assert response.json == invalid(
        "A 'host' is required when using an AWS Redshift integration: set it to the cluster or workgroup endpoint."
    )


@pytest.mark.parametrize(
    ("copy_inputs", "detail"),
    [
        (None, "Missing required inputs for 'COPY'"),
        ({"s3_bucket": "b"}, "Missing required input for 'COPY'"),
        (
            {
                "s3_bucket": "b",
                "region_name": "r",
                "authorization": "arn",
                "bucket_credentials": {"aws_access_key_id": "a"},
            },
            "Missing required bucket credentials for 'COPY'",
        ),
        (
            {
                "s3_bucket": "b",
                "region_name": "r",
                "authorization": {"aws_access_key_id": "a"},
                "bucket_credentials": 0,
            },
            "'bucket_credentials' does not reference an AWS S3 integration of this project.",
        ),
        (
            {
                "s3_bucket": "b",
                "region_name": "r",
                "authorization": "  ",
                "bucket_credentials": {"aws_access_key_id": "a", "aws_secret_access_key": "s"},
            },
            "Missing required IAM role for 'COPY'",
        ),
        (
            {
                "s3_bucket": "b",
                "region_name": "r",
                "authorization": {"aws_access_key_id": "a"},
                "bucket_credentials": {"aws_access_key_id": "a", "aws_secret_access_key": "s"},
            },
            "Missing required credentials for 'COPY'",
        ),
        (
            {
                "s3_bucket": "b",
                "region_name": "r",
                "authorization": ["arn"],
                "bucket_credentials": {"aws_access_key_id": "a", "aws_secret_access_key": "s"},
            },
            "Authorization for 'COPY' must be an IAM role ARN, AWS credentials, or an integration ID.",
        ),
    ],
)
def test_redshift_copy_mode_needs_its_staging_inputs(api: Api, copy_inputs: Any, detail: str) -> None:
    config: dict[str, Any] = {"mode": "COPY"}
    if copy_inputs is not None:
        config["copy_inputs"] = copy_inputs

    response = create(api, destination=integrated(api, "Redshift", **config))

    assert response.status_code == 400
    assert response.json == invalid(detail)


def test_redshift_copy_credentials_may_be_an_s3_integration_of_the_project(api: Api) -> None:
    s3 = api.integration("aws-s3")
    copy_inputs = {"s3_bucket": "b", "region_name": "r", "authorization": s3, "bucket_credentials": str(s3)}

    response = create(api, destination=integrated(api, "Redshift", mode="COPY", copy_inputs=copy_inputs))

    assert response.status_code == 201


def test_redshift_copy_credentials_cannot_switch_from_an_integration_to_inline(api: Api) -> None:
    s3 = api.integration("aws-s3")
    copy_inputs = {"s3_bucket": "b", "region_name": "r", "authorization": "arn:role", "bucket_credentials": s3}
    export = create(api, destination=integrated(api, "Redshift", mode="COPY", copy_inputs=copy_inputs)).json
    inline = {"aws_access_key_id": "a", "aws_secret_access_key": "s"}
    destination = {
        "type": "Redshift",
        "config": {"copy_inputs": {"bucket_credentials": inline}},
        "integration": api.integration("aws-redshift"),
    }

    response = patch(api, export, {"destination": destination})

    assert response.status_code == 400
    assert response.json == invalid(
        "Cannot switch 'bucket_credentials' from an integration to inline credentials. "
        "Send a different integration ID to swap, or omit the field to keep the current one."
    )


@pytest.mark.parametrize(
    "host", ["postgres://db.example.com", "admin@db.example.com", "db.example.com:5432", "db/x", ""]
)
def test_a_database_host_must_be_a_bare_hostname(api: Api, host: str) -> None:
    response = create(api, destination=integrated(api, "Postgres", host=host))

    assert response.status_code == 400
    assert response.json == invalid(
        "Invalid host. Enter a hostname or IP address without credentials, scheme, or path."
    )


@pytest.mark.parametrize("host", ["db.example.com", "10.1.2.3", "2001:db8::1"])
def test_a_database_host_may_be_a_name_or_an_address(api: Api, host: str) -> None:
    assert create(api, destination=integrated(api, "Postgres", host=host)).status_code == 201


def test_workflows_destinations_need_a_feature_flag(api: Api) -> None:
    response = create(api, destination={"type": "Workflows", "config": {"hog_function_id": "h"}})

    assert response.status_code == 403
    assert response.json == error(
        "permission_denied", "Backfilling Workflows is not enabled for this team.", type="authentication_error"
    )


def test_workflows_destinations_are_created_with_the_flag(server: MockServer) -> None:
    api = flagged(server, "backfill-workflows-destination")

    response = create(api, destination={"type": "Workflows", "config": {"hog_function_id": "h"}})

    assert response.status_code == 201


# -- interval ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "code", "detail"),
    [
        (..., "required", "This field is required."),
        (None, "null", "This field may not be null."),
        ("monthly", "invalid_choice", '"monthly" is not a valid choice.'),
    ],
)
def test_an_interval_is_required_and_must_be_a_choice(api: Api, interval: Any, code: str, detail: str) -> None:
    response = create(api, interval=interval)

    assert response.status_code == 400
    assert response.json == error(code, detail, "interval")


@pytest.mark.parametrize("interval", ["every 5 minutes", "every 15 minutes"])
def test_sub_hour_intervals_need_a_feature_flag(api: Api, interval: str) -> None:
    response = create(api, interval=interval)

    assert response.status_code == 403
    assert response.json == NO_HIGH_FREQUENCY


@pytest.mark.parametrize("interval", ["every 5 minutes", "every 15 minutes"])
def test_sub_hour_intervals_are_created_with_the_flag(server: MockServer, interval: str) -> None:
    api = flagged(server, "high-frequency-batch-exports")

    response = create(api, interval=interval)

    assert response.status_code == 201
    assert (response.json["interval"], response.json["offset_day"], response.json["offset_hour"]) == (
        interval,
        None,
        None,
    )


def test_sub_hour_intervals_need_the_flag_on_patch_too(api: Api) -> None:
    export = create(api).json

    response = patch(api, export, {"interval": "every 5 minutes"})

    assert response.status_code == 403
    assert response.json == NO_HIGH_FREQUENCY


def test_flags_are_per_project(server: MockServer) -> None:
    flagged(server, "high-frequency-batch-exports")
    unflagged = flagged(server)

    assert create(unflagged, interval="every 5 minutes").status_code == 403


# -- timezone ------------------------------------------------------------------------------


def test_a_timezone_must_be_a_choice(api: Api) -> None:
    response = create(api, timezone="Mars/Olympus")

    assert response.status_code == 400
    assert response.json == error("invalid_choice", '"Mars/Olympus" is not a valid choice.', "timezone")


def test_a_timezone_is_stored(api: Api) -> None:
    assert create(api, interval="day", timezone="Europe/Berlin").json["timezone"] == "Europe/Berlin"


def test_a_null_timezone_on_patch_resets_it_to_utc(api: Api) -> None:
    export = create(api, timezone="Asia/Tokyo").json

    assert patch(api, export, {"timezone": None}).json["timezone"] == "UTC"


# -- offsets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "detail", "attr"),
    [
        (
            {"interval": "week", "offset_day": 7},
            "max_value",
            "Ensure this value is less than or equal to 6.",
            "offset_day",
        ),
        (
            {"interval": "week", "offset_day": -1},
            "min_value",
            "Ensure this value is greater than or equal to 0.",
            "offset_day",
        ),
        ({"interval": "week", "offset_day": 1.5}, "invalid_input", "A valid integer is required.", "offset_day"),
        (
            {"interval": "day", "offset_hour": 24},
            "max_value",
            "Ensure this value is less than or equal to 23.",
            "offset_hour",
        ),
        (
            {"interval": "day", "offset_hour": -1},
            "min_value",
            "Ensure this value is greater than or equal to 0.",
            "offset_hour",
        ),
        (
            {"interval": "day", "offset_day": 1},
            "invalid_input",
            "offset_day is not applicable for non-weekly intervals",
            "offset_day",
        ),
        (
            {"interval": "hour", "offset_day": 1},
            "invalid_input",
            "offset_day is not applicable for non-weekly intervals",
            "offset_day",
        ),
        (
            {"interval": "hour", "offset_hour": 1},
            "invalid_input",
            "offset_hour is not applicable for non-daily/weekly intervals",
            "offset_hour",
        ),
    ],
)
def test_offsets_have_ranges_and_apply_to_some_intervals(
    api: Api, body: dict[str, Any], code: str, detail: str, attr: str
) -> None:
    response = create(api, **body)

    assert response.status_code == 400
    assert response.json == error(code, detail, attr)


@pytest.mark.parametrize(
    "body", [{"interval": "hour", "offset_day": None, "offset_hour": None}, {"interval": "day", "offset_day": None}]
)
def test_null_offsets_always_pass(api: Api, body: dict[str, Any]) -> None:
    assert create(api, **body).status_code == 201


def test_offsets_are_stored_as_seconds_after_the_boundary(api: Api, server: MockServer) -> None:
    export = create(api, interval="week", offset_day=2, offset_hour=5).json

    assert server.store.batch_exports[export["id"]].interval_offset == 2 * 86400 + 5 * 3600


# PATCHes of the schedule fields and what PostHog answers to each, as its own tests pin them
# (products/batch_exports/backend/tests/api/test_update.py@0f759a5a455345c44d6a56e9a997146ceaf4e033).
PATCH_TABLE = [
    pytest.param(
        {"interval": "hour", "timezone": "UTC"},
        {"interval": "week", "timezone": "UTC", "offset_day": 0, "offset_hour": 0},
        ("week", "UTC", 0, 0, 0),
        id="hour-to-week-with-zero-offsets",
    ),
    pytest.param(
        {"interval": "hour", "timezone": None},
        {"interval": "week"},
        ("week", "UTC", 0, 0, None),
        id="hour-to-week-without-offsets",
    ),
    pytest.param(
        {"interval": "day", "timezone": "Europe/Berlin", "offset_hour": 1},
        {"interval": "hour"},
        ("hour", "Europe/Berlin", None, None, None),
        id="day-to-hour-drops-the-offsets",
    ),
    pytest.param(
        {"interval": "day", "timezone": "Europe/Berlin", "offset_hour": 1},
        {"interval": "day", "timezone": None, "offset_day": None, "offset_hour": None},
        ("day", "UTC", None, 0, None),
        id="day-with-null-offsets",
    ),
    pytest.param(
        {"interval": "hour"},
        {"interval": "day", "timezone": "US/Pacific", "offset_hour": 2},
        ("day", "US/Pacific", None, 2, 7200),
        id="hour-to-day-at-two",
    ),
    pytest.param(
        {"interval": "week", "offset_day": 3, "offset_hour": 4},
        {"interval": "week", "offset_hour": 6},
        ("week", "UTC", 0, 6, 6 * 3600),
        id="week-with-only-an-hour-resets-the-day",
    ),
    pytest.param(
        {"interval": "day", "offset_hour": 5},
        {"interval": "day"},
        ("day", "UTC", None, 5, 5 * 3600),
        id="day-without-offsets-keeps-them",
    ),
]


@pytest.mark.parametrize(("before", "body", "after"), PATCH_TABLE)
def test_patching_schedule_fields(
    api: Api, server: MockServer, before: dict[str, Any], body: dict[str, Any], after: tuple[Any, ...]
) -> None:
    export = create(api, **before).json

    response = patch(api, export, body)

    assert response.status_code == 200, response.json
    data = response.json
    offset = server.store.batch_exports[export["id"]].interval_offset
    assert (data["interval"], data["timezone"], data["offset_day"], data["offset_hour"], offset) == after


@pytest.mark.parametrize(
    ("before", "body", "expected"),
    [
        pytest.param(
            {"interval": "day"},
            {"interval": None, "offset_hour": 1},
            error("null", "This field may not be null.", "interval"),
            id="null-interval",
        ),
        pytest.param(
            {"interval": "hour"},
            {"interval": "day", "offset_hour": 24},
            error("max_value", "Ensure this value is less than or equal to 23.", "offset_hour"),
            id="hour-24",
        ),
        pytest.param(
            {"interval": "day"},
            {"interval": "week", "offset_day": 7},
            error("max_value", "Ensure this value is less than or equal to 6.", "offset_day"),
            id="day-7",
        ),
        pytest.param(
            {"interval": "week"},
            {"interval": "hour", "timezone": "Europe/Berlin", "offset_hour": 1},
            error("invalid_input", "offset_hour is not applicable for non-daily/weekly intervals", "offset_hour"),
            id="offset-hour-on-hourly",
        ),
    ],
)
def test_patching_schedule_fields_refusals(
    api: Api, before: dict[str, Any], body: dict[str, Any], expected: dict[str, Any]
) -> None:
    export = create(api, **before).json

    response = patch(api, export, body)

    assert response.status_code == 400
    assert response.json == expected


def test_patch_offsets_apply_to_the_stored_interval(api: Api, server: MockServer) -> None:
    """PostHog answers 500 for offsets without ``interval``; the fake uses the stored interval."""
    export = create(api, interval="day").json

    response = patch(api, export, {"offset_hour": 7})

    assert (response.status_code, response.json["offset_hour"]) == (200, 7)
    assert server.store.batch_exports[export["id"]].interval_offset == 7 * 3600


def test_patch_offsets_are_checked_against_the_stored_interval(api: Api) -> None:
    export = create(api, interval="day").json

    response = patch(api, export, {"offset_day": 2})

    assert response.json == error(
        "invalid_input", "offset_day is not applicable for non-weekly intervals", "offset_day"
    )


def test_a_put_without_offsets_clears_them(api: Api, server: MockServer) -> None:
    export = create(api, interval="day", offset_hour=9).json

    response = api.put(f"/batch_exports/{export['id']}/", json={"name": "n", "interval": "day", "destination": NOOP})

    assert response.json["offset_hour"] == 0
    assert server.store.batch_exports[export["id"]].interval_offset is None


# -- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "detail"),
    [
        ({"key": "$browser"}, "'filters' should be an array of filters"),
        ("event", "'filters' should be an array of filters"),
        (["$browser"], "Each filter must be an object"),
        (
            [{"type": "event", "data_interval_start": "2026-01-01"}],
            "'data_interval_start' and 'data_interval_end' are run attributes and not 'filters'. "
            "Trigger a backfill if you wish to manually control which periods to batch export.",
        ),
        (
            [{"key": "$browser", "type": "cohort"}],
            "Each filter must have a 'type' of one of: 'event', 'hogql', 'person'",
        ),
        ([{"key": "$browser"}], "Each filter must have a 'type' of one of: 'event', 'hogql', 'person'"),
    ],
)
def test_filters_must_be_typed_property_filters(api: Api, filters: Any, detail: str) -> None:
    response = create(api, filters=filters)

    assert response.status_code == 400
    assert response.json == error("invalid_input", detail, "filters")


def test_filters_are_stored_as_sent(api: Api) -> None:
    filters = [
        {"key": "$browser", "operator": "exact", "type": "event", "value": ["Firefox"]},
        {"key": "email", "operator": "is_set", "type": "person"},
        {"key": "properties.plan = 'pro'", "type": "hogql"},
    ]

    assert create(api, filters=filters).json["filters"] == filters


def test_filters_may_be_null(api: Api) -> None:
    assert create(api, filters=None).json["filters"] is None


# -- hogql_query ---------------------------------------------------------------------------


def test_a_hogql_query_becomes_the_schema(api: Api) -> None:
    query = "select toString(uuid) as uuid, 'test' as test, toInt(1+1) as n from events"

    response = create(api, hogql_query=query)

    assert response.status_code == 201
    assert "hogql_query" not in response.json
    assert response.json["schema"]["hogql_query"] == (
        "SELECT toString(uuid) AS uuid, 'test' AS test, toInt(plus(1, 1)) AS n FROM events"
    )
    assert [f["alias"] for f in response.json["schema"]["fields"]] == ["uuid", "test", "n"]


def test_the_normalised_query_prints_operators_as_functions(api: Api) -> None:
    query = (
        "select event, properties.$browser as browser from events where event = 'signup' and not distinct_id like 'x%'"
    )

    schema = create(api, hogql_query=query).json["schema"]

    assert schema["hogql_query"] == (
        "SELECT event, properties.$browser AS browser FROM events "
        "WHERE and(equals(event, 'signup'), not(like(distinct_id, 'x%')))"
    )


def test_a_patch_with_a_new_query_recomputes_the_schema(api: Api) -> None:
    export = create(api, hogql_query="select event from events").json

    response = patch(api, export, {"hogql_query": "select uuid from events"})

    assert response.json["schema"]["hogql_query"] == "SELECT uuid FROM events"


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("not a query", "Failed to parse query"),
        ("select event from events where", "Failed to parse query"),
        ("", "Failed to parse query"),
        ("select unknown_field from events", "Invalid HogQL query: Unable to resolve field: unknown_field"),
        ("select event from events union all select event from events", "UNIONs are not supported"),
        ("select 1", "Query must SELECT FROM events"),
        ("with e as (select event from events) select event from events", "CTEs are not supported"),
        ("select event from (select event from events)", "Subqueries are not supported"),
        ("select id from persons", "Query must only SELECT FROM events"),
        ("select event from events join persons on events.person_id = persons.id", "JOINs are not supported"),
        (
            "select (select event from events limit 1) as leaked, uuid from events",
            "Subqueries in SELECT expressions are not supported",
        ),
        (
            "select $window_id, $session_id, event from events",
            "Batch exports cannot read these fields: $session_id, $window_id. Supported fields are: created_at, "
            "distinct_id, elements_chain, event, person_id, person_properties, properties, team_id, timestamp, uuid.",
        ),
    ],
)
def test_hogql_queries_batch_exports_cannot_run_are_refused(api: Api, query: str, detail: str) -> None:
    response = create(api, hogql_query=query)

    assert response.status_code == 400
    assert response.json == error("invalid_input", detail, "hogql_query")


def test_a_hogql_query_may_not_be_null(api: Api) -> None:
    response = create(api, hogql_query=None)

    assert response.status_code == 400
    assert response.json == error("null", "This field may not be null.", "hogql_query")


# -- datetimes and booleans ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["start_at", "end_at", "last_paused_at"])
def test_datetimes_must_be_iso_8601(api: Api, field: str) -> None:
    response = create(api, **{field: "next tuesday"})

    assert response.status_code == 400
    assert response.json == error(
        "invalid_input",
        "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        field,
    )


def test_naive_datetimes_are_utc_and_dates_are_midnight(api: Api) -> None:
    export = create(api, start_at="2026-01-01T08:30:00", end_at="2026-02-01").json

    assert (export["start_at"], export["end_at"]) == ("2026-01-01T08:30:00Z", "2026-02-01T00:00:00Z")


def test_paused_must_be_a_json_boolean(api: Api) -> None:
    """DRF would read ``"true"``; the fake insists on JSON types (docs/fidelity.md)."""
    response = create(api, paused="true")

    assert response.status_code == 400
    assert response.json == error("invalid_input", "Must be a valid boolean.", "paused")


def test_an_export_may_be_created_paused(api: Api) -> None:
    export = create(api, paused=True).json

    assert (export["paused"], export["last_paused_at"]) == (True, None)


# -- the body itself -------------------------------------------------------------------------


def test_unknown_top_level_keys_are_ignored(api: Api) -> None:
    response = create(api, last_modified_by={"id": 1}, team_id=999, hogql_modifiers={})

    assert response.status_code == 201
    assert response.json["team_id"] == api.tenant.project_id


def test_malformed_json_is_a_parse_error(api: Api) -> None:
    response = api.post("/batch_exports/", data='{"name": ', content_type="application/json")

    assert response.status_code == 400
    assert (response.json["type"], response.json["code"], response.json["attr"]) == (
        "invalid_request",
        "parse_error",
        None,
    )
    assert response.json["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_a_body_that_is_not_json_is_415(api: Api, content_type: str) -> None:
    response = api.post("/batch_exports/", data="name=n", content_type=content_type)

    assert response.status_code == 415
    assert response.json == error(
        "unsupported_media_type", f'Unsupported media type "{content_type}" in request.', type="invalid_request"
    )


@pytest.mark.parametrize(("body", "kind"), [([], "list"), ("n", "str"), (3, "int")])
def test_a_body_that_is_not_an_object_is_refused(api: Api, body: Any, kind: str) -> None:
    response = api.post("/batch_exports/", json=body)

    assert response.status_code == 400
    assert response.json == error("invalid_input", f"Invalid data. Expected a dictionary, but got {kind}.")


def test_an_empty_body_is_an_empty_object(api: Api) -> None:
    response = api.post("/batch_exports/", data="", content_type="application/json")

    assert response.json == error("required", "This field is required.", "name")


# -- which error is reported -------------------------------------------------------------------


def test_only_the_first_field_in_serializer_order_is_reported(api: Api) -> None:
    response = create(api, interval="monthly", timezone="Nowhere/City")

    assert response.json == error("invalid_choice", '"monthly" is not a valid choice.', "interval")


def test_a_destination_error_comes_before_an_interval_error(api: Api) -> None:
    response = create(api, destination={"type": "NoOp", "config": {"x": 1}}, interval="monthly")

    assert response.json == config_error("Configuration has unknown field/s: 'x'")


def test_a_name_error_comes_before_a_destination_error(api: Api) -> None:
    response = create(api, name="", destination={"type": "Kafka"})

    assert response.json == error("blank", "This field may not be blank.", "name")


def test_a_feature_flag_refusal_aborts_before_earlier_field_errors(api: Api) -> None:
    response = create(api, name=..., interval="every 5 minutes")

    assert response.status_code == 403
    assert response.json == NO_HIGH_FREQUENCY


def test_object_level_rules_run_after_every_field(api: Api) -> None:
    destination = {"type": "HTTP", "config": {"url": HTTP_URL, "token": "t"}}

    response = create(api, model="sessions", destination=destination, timezone="Nowhere/City")

    assert response.json == error("invalid_choice", '"Nowhere/City" is not a valid choice.', "timezone")


def test_a_refused_write_changes_nothing(api: Api, server: MockServer, tenant: Tenant) -> None:
    export = create(api).json

    patch(api, export, {"name": "renamed", "interval": "monthly"})

    assert api.get(f"/batch_exports/{export['id']}/").json == export
    assert len(server.store.exports_by_team[tenant.project_id]) == 1
