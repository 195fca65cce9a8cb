"""Requests as Django REST framework handles them: routing order, methods and body parsers.

PostHog keeps DRF's defaults: the router lists list-level actions before the detail
route, every view answers ``OPTIONS`` with its metadata and ``HEAD`` like ``GET``, every
response carries ``Allow``, and form and multipart bodies are read field by field.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from support import Api, error

NOOP_FORM = {
    "name": "form export",
    "interval": "day",
    "destination.type": "NoOp",
    "destination.config": "{}",
}

# -- routing ------------------------------------------------------------------------


def test_a_wrong_method_on_a_list_level_action_is_that_actions_405(api: Api) -> None:
    response = api.post("/batch_exports/test/", query_string={"destination": "BigQuery"})

    assert response.status_code == 405
    assert response.json == error("method_not_allowed", 'Method "POST" not allowed.', type="invalid_request")
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_get_on_run_test_step_new_is_405_not_a_missing_export(api: Api) -> None:
    response = api.get("/batch_exports/run_test_step_new/")

    assert response.status_code == 405
    assert response.json == error("method_not_allowed", 'Method "GET" not allowed.', type="invalid_request")
    assert response.headers["Allow"] == "POST, OPTIONS"


def test_allow_lists_methods_in_drfs_order_on_every_response(api: Api) -> None:
    export = api.create_export()

    detail = api.get(f"/batch_exports/{export['id']}/")
    missing = api.get("/batch_exports/00000000-0000-0000-0000-000000000000/")
    wrong = api.post(f"/batch_exports/{export['id']}/")

    assert detail.headers["Allow"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
    assert missing.status_code == 404 and missing.headers["Allow"] == detail.headers["Allow"]
    assert wrong.status_code == 405 and wrong.headers["Allow"] == detail.headers["Allow"]


def test_an_unknown_path_has_no_allow_header(api: Api) -> None:
    response = api.get("/no_such_thing/")

    assert response.status_code == 404
    assert "Allow" not in response.headers


# -- HEAD and OPTIONS ---------------------------------------------------------------


def test_head_answers_like_get_without_a_body(api: Api) -> None:
    api.create_export()

    get = api.get("/batch_exports/")
    head = api.request("HEAD", "/batch_exports/")

    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]


def test_head_needs_the_same_key_as_get(api: Api) -> None:
    assert api.request("HEAD", "/batch_exports/", headers={}).status_code == 401


def test_options_describes_the_view_as_drf_does(api: Api) -> None:
    response = api.request("OPTIONS", "/batch_exports/")

    assert response.status_code == 200
    assert response.json == {
        "name": "Batch Export List",
        "description": "",
        "renders": ["application/json"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    }
    assert response.headers["Allow"] == "GET, POST, HEAD, OPTIONS"


def test_options_never_lists_actions_for_a_personal_api_key(api: Api) -> None:
    """DRF's ``SimpleMetadata`` re-checks permissions as a ``POST``/``PUT`` while the view's action is
    still ``metadata``, for which PostHog's ``APIScopePermission`` finds no scope: even a ``*`` key
    gets no ``actions``."""
    export = api.create_export()
    star = Api(api.server, api.server.store.create_tenant(scopes=["*"]))

    pause = api.request("OPTIONS", f"/batch_exports/{export['id']}/pause/").json
    detail = api.request("OPTIONS", f"/batch_exports/{export['id']}/").json
    runs = api.request("OPTIONS", f"/batch_exports/{export['id']}/runs/").json
    listed = star.request("OPTIONS", "/batch_exports/").json

    assert (pause["name"], pause["description"]) == ("Pause", "Pause a BatchExport.")
    assert detail["name"] == "Batch Export Instance"
    assert runs["name"] == "Batch Export Run List"
    assert all("actions" not in body for body in (pause, detail, runs, listed))


def test_options_needs_a_key_and_only_read_scope(api: Api) -> None:
    reader_tenant = api.server.store.create_tenant(scopes=["batch_export:read"])
    reader_api = Api(api.server, reader_tenant)

    anonymous = api.request("OPTIONS", "/batch_exports/", headers={})
    reader = reader_api.request("OPTIONS", "/batch_exports/")

    assert anonymous.status_code == 401
    assert reader.status_code == 200


def test_a_json_body_is_read_in_the_charset_its_content_type_names(api: Api) -> None:
    """DRF's JSON parser decodes by the request's charset, UTF-8 when none is named or Python knows no such one."""
    body = {"name": "café", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}
    latin = json.dumps(body, ensure_ascii=False).encode("latin-1")

    named = api.post("/batch_exports/", data=latin, content_type="application/json; charset=latin-1")
    unnamed = api.post("/batch_exports/", data=latin, content_type="application/json")
    unknown = api.post("/batch_exports/", data=latin, content_type="application/json; charset=no-such-thing")

    assert named.status_code == 201 and named.json["name"] == "café"
    codec = "'utf-8' codec can't decode byte 0xe9 in position 13: invalid continuation byte"
    assert unnamed.json == error("parse_error", f"JSON parse error - {codec}", type="invalid_request")
    assert unknown.json == unnamed.json  # a charset Python does not know: Django reads UTF-8


def test_a_utf_8_bom_is_refused_unless_the_charset_is_utf_8_sig(api: Api) -> None:
    """DRF reads a UTF-8 body as text that starts with U+FEFF, which ``json.load`` refuses."""
    body = b"\xef\xbb\xbf" + json.dumps({"name": "bom", "interval": "hour",
                                         "destination": {"type": "NoOp", "config": {}}}).encode()  # fmt: skip
    refused = api.post("/batch_exports/", data=body, content_type="application/json")
    stripped = api.post("/batch_exports/", data=body, content_type="application/json; charset=utf-8-sig")

    assert refused.json["code"] == "parse_error"
    assert refused.json["detail"].startswith("JSON parse error - Unexpected UTF-8 BOM")
    assert stripped.status_code == 201


NOT_ACCEPTABLE = error("not_acceptable", "Could not satisfy the request Accept header.", type="invalid_request")


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json; indent=4", "application/*", "text/html,*/*;q=0.8"]
)
def test_any_accept_header_that_json_satisfies_gets_json(api: Api, accept: str | None) -> None:
    key = {"Authorization": f"Bearer {api.tenant.api_key}"}
    headers = {**key, "Accept": accept} if accept is not None else key
    assert api.get("/batch_exports/", headers=headers).status_code == 200


@pytest.mark.parametrize("accept", ["text/html", "application/xml", ""])
def test_an_accept_header_json_cannot_satisfy_is_406_before_anything_else(api: Api, accept: str) -> None:
    """DRF negotiates the renderer first: before authentication, and before a method's 405."""
    without_key = api.get("/batch_exports/", headers={"Accept": accept})
    key = {"Authorization": f"Bearer {api.tenant.api_key}"}
    wrong_method = api.request("DELETE", "/batch_exports/", headers={**key, "Accept": accept})

    assert (without_key.status_code, without_key.json) == (406, NOT_ACCEPTABLE)
    assert (wrong_method.status_code, wrong_method.json) == (406, NOT_ACCEPTABLE)


def test_a_format_other_than_json_is_404(api: Api) -> None:
    """DRF's ``?format=`` keeps only the renderers of that format; PostHog has JSON's alone."""
    assert api.get("/batch_exports/?format=json").status_code == 200
    assert api.get("/batch_exports/?format=").status_code == 200  # empty: not asked
    refused = api.get("/batch_exports/?format=xml", headers={})
    assert refused.json == error("not_found", "Not found.", type="invalid_request")


# -- form and multipart bodies ------------------------------------------------------


def test_a_form_creates_an_export_with_dotted_nested_fields(api: Api) -> None:
    response = api.post("/batch_exports/", data={**NOOP_FORM, "offset_hour": "3", "paused": "on"})

    assert response.status_code == 201, response.json
    body = response.json
    assert (body["name"], body["interval"], body["offset_hour"], body["paused"]) == ("form export", "day", 3, True)
    assert body["destination"] == {"type": "NoOp", "config": {}, "integration": None}


def test_a_multipart_body_reads_like_a_form(api: Api) -> None:
    response = api.post("/batch_exports/", data=NOOP_FORM, content_type="multipart/form-data")

    assert response.status_code == 201, response.json
    assert response.json["name"] == "form export"


def test_a_form_patch_changes_only_what_it_sends(api: Api) -> None:
    export = api.create_export(paused=True)

    response = api.patch(f"/batch_exports/{export['id']}/", data={"name": "renamed"})

    assert response.status_code == 200, response.json
    assert (response.json["name"], response.json["paused"]) == ("renamed", True)


def test_outside_patch_an_absent_checkbox_is_false(api: Api) -> None:
    export = api.create_export(paused=True)

    response = api.put(f"/batch_exports/{export['id']}/", data={**NOOP_FORM, "interval": "hour"})

    assert response.status_code == 200, response.json
    assert response.json["paused"] is False


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        # A nested serializer reads only dotted keys: a JSON string under its own name is not read.
        (
            {"name": "n", "interval": "hour", "destination": '{"type": "NoOp", "config": {}}'},
            error("required", "This field is required.", attr="destination"),
        ),
        (
            {**NOOP_FORM, "destination.config": "{not json"},
            error("invalid_input", "Value must be valid JSON.", attr="destination__config"),
        ),
        (
            {**NOOP_FORM, "offset_hour": "three"},
            error("invalid_input", "A valid integer is required.", attr="offset_hour"),
        ),
        ({**NOOP_FORM, "paused": "maybe"}, error("invalid_input", "Must be a valid boolean.", attr="paused")),
        ({**NOOP_FORM, "name": ""}, error("blank", "This field may not be blank.", attr="name")),
        ({**NOOP_FORM, "filters": "[{"}, error("invalid_input", "Value must be valid JSON.", attr="filters")),
    ],
)
def test_what_a_form_cannot_express_fails_as_in_drf(api: Api, form: dict[str, str], expected: Any) -> None:
    response = api.post("/batch_exports/", data=form)

    assert response.status_code == 400
    assert response.json == expected
    assert api.get("/batch_exports/").json["count"] == 0


def test_a_form_reads_json_fields_and_empty_nullables(api: Api) -> None:
    filters = '[{"key": "$browser", "operator": "exact", "type": "event", "value": ["Firefox"]}]'

    response = api.post("/batch_exports/", data={**NOOP_FORM, "filters": filters, "offset_hour": ""})

    assert response.status_code == 201, response.json
    assert response.json["filters"][0]["value"] == ["Firefox"]
    assert response.json["offset_hour"] == 0  # null offset: a daily export runs at midnight


def test_a_file_part_is_not_a_value(api: Api) -> None:
    data: dict[str, Any] = {**NOOP_FORM, "name": (io.BytesIO(b"x"), "name.txt")}

    response = api.post("/batch_exports/", data=data)

    assert response.status_code == 400
    assert response.json == error("invalid_input", "Not a valid string.", attr="name")


def test_a_form_unpause_backfill_false_is_a_string_and_backfills(api: Api) -> None:
    export = api.create_export(paused=True)
    api.post(f"/batch_exports/{export['id']}/pause/")

    response = api.post(f"/batch_exports/{export['id']}/unpause/", data={"backfill": "false"})

    assert response.status_code == 200
    assert response.json == {"paused": False}


def test_a_form_may_carry_the_personal_api_key(api: Api) -> None:
    response = api.post("/batch_exports/", data={**NOOP_FORM, "personal_api_key": api.tenant.api_key}, headers={})

    assert response.status_code == 201, response.json


def test_a_form_file_download_reads_the_nested_file_options(api: Api) -> None:
    form = {
        "file.format": "JSONLines",
        "file.max_size_mb": "5",
        "model": "events",
        "include": ["$pageview", "$autocapture"],
        "data_interval_start": "2020-01-01T00:00:00Z",
        "data_interval_end": "2020-01-01T01:00:00Z",
    }

    response = api.post("/file_download_batch_exports/", data=form)

    assert response.status_code == 202, response.json


def test_a_multipart_body_without_a_boundary_is_a_parse_error(api: Api) -> None:
    response = api.post("/batch_exports/", data="name=x", content_type="multipart/form-data")

    assert response.status_code == 400
    assert response.json == error(
        "parse_error", "Multipart form parse error - Invalid boundary in multipart: None", type="invalid_request"
    )


def test_a_multipart_part_without_a_name_is_dropped(api: Api) -> None:
    boundary = "b0undary"
    parts = [
        ("", "[true]"),
        ("name", "n"),
        ("interval", "hour"),
        ("destination.type", "NoOp"),
        ("destination.config", "{}"),
    ]
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in parts)
    body += f"--{boundary}--\r\n"
    unnamed_file = f'--{boundary}\r\nContent-Disposition: form-data; name=""; filename="x.txt"\r\n\r\nx\r\n'

    response = api.post(
        "/batch_exports/", data=unnamed_file + body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert response.status_code == 201, response.json
