"""Small edges where the fake once differed from DRF and Django."""

from __future__ import annotations

import json

import pytest
from support import Api, error

HOUR = 3600
NOOP_EXPORT = {"name": "my export", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}


def test_a_json_body_without_a_content_type_is_415(api: Api) -> None:
    response = api.post("/batch_exports/", data=json.dumps(NOOP_EXPORT))
    assert (response.status_code, response.json) == (
        415,
        error("unsupported_media_type", 'Unsupported media type "" in request.', type="invalid_request"),
    )
    assert api.get("/batch_exports/").json["count"] == 0
    # No body at all is still an empty object, as DRF reads it.
    assert api.post("/batch_exports/").status_code == 400


@pytest.mark.parametrize("listing", ["runs", "backfills"])
def test_an_empty_cursor_is_the_first_page(api: Api, listing: str) -> None:
    export = api.create_export()
    first = api.get(f"/batch_exports/{export['id']}/{listing}/")
    empty = api.get(f"/batch_exports/{export['id']}/{listing}/", query_string={"cursor": ""})
    assert (empty.status_code, empty.json) == (200, first.json)


def test_an_empty_path_segment_after_backfills_is_not_the_list(api: Api) -> None:
    export = api.create_export()
    response = api.get(f"/batch_exports/{export['id']}/backfills//")
    assert (response.status_code, response.json) == (
        404,
        error("not_found", "Endpoint not found.", type="invalid_request"),
    )


def test_run_and_backfill_ids_are_found_in_any_case(api: Api) -> None:
    export = api.create_export()
    api.post("/_mock/clock/advance/", json={"seconds": 3 * HOUR})
    run = api.get(f"/batch_exports/{export['id']}/runs/").json["results"][0]
    backfill = api.post(
        f"/batch_exports/{export['id']}/backfills/",
        json={"start_at": "2026-01-05T00:00:00Z", "end_at": "2026-01-05T02:00:00Z"},
    ).json
    upper_export = export["id"].upper()
    for path in (f"/batch_exports/{upper_export}/runs/{run['id'].upper()}/",
                 f"/batch_exports/{export['id']}/runs/{run['id'].replace('-', '')}/",
                 f"/batch_exports/{export['id']}/backfills/{backfill['backfill_id'].upper()}/"):  # fmt: skip
        response = api.get(path)
        assert response.status_code == 200, (path, response.json)
        assert response.json["id"] in (run["id"], backfill["backfill_id"])


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_a_json_parse_error_as_in_drf(api: Api, constant: str) -> None:
    text = '{"name": "x", "interval": "hour", "destination": {"type": "NoOp", "config": {}}, "offset_hour": %s}'
    response = api.post("/batch_exports/", data=text % constant, content_type="application/json")
    detail = f"JSON parse error - Out of range float values are not JSON compliant: '{constant}'"
    assert (response.status_code, response.json) == (400, error("parse_error", detail, type="invalid_request"))
    assert api.get("/batch_exports/").json["count"] == 0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nul " + chr(0) + " x", error("null_characters_not_allowed", "Null characters are not allowed.", "name")),
        (
            "lone " + chr(0xD800) + " x",
            error("surrogate_characters_not_allowed", "Surrogate characters are not allowed: U+D800.", "name"),
        ),
    ],
)
def test_a_name_with_a_nul_or_a_lone_surrogate_is_refused_as_drf_refuses_it(
    api: Api, name: str, expected: dict[str, str]
) -> None:
    """Every DRF ``CharField`` runs ``ProhibitNullCharactersValidator`` and ``ProhibitSurrogateCharactersValidator``."""
    body = {"name": name, "interval": "hour", "destination": {"type": "NoOp", "config": {}}}
    created = api.post("/batch_exports/", data=json.dumps(body).encode(), content_type="application/json")
    export = api.create_export()
    path = f"/batch_exports/{export['id']}/"
    patched = api.patch(path, data=json.dumps({"name": name}).encode(), content_type="application/json")

    assert (created.status_code, created.json) == (400, expected)
    assert (patched.status_code, patched.json) == (400, expected)
    assert api.get(path).json["name"] == export["name"]
