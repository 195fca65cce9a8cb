"""Limit/offset pagination of batch-export lists, as DRF's ``LimitOffsetPagination`` does it.

Pages are ``{count, next, previous, results}``, 100 items by default with no maximum.
``next`` and ``previous`` are absolute URLs of the same request with ``limit`` and
``offset`` replaced and the query string re-encoded with sorted keys; ``previous`` drops
``offset`` when it would be 0. A ``limit`` that is not a positive integer, or an
``offset`` that is not a non-negative one, falls back to the default. PostHog uses DRF's
class as its global default (``DEFAULT_PAGINATION_CLASS`` and ``PAGE_SIZE`` in
``posthog/settings/web.py@000798bf8784a9d3d2ba4f133c3486d0cc0a1669``).
Batch-export logs use the same envelope, but their ``limit`` is also the query's row cap,
so ``count`` never exceeds it (``LogEntryMixin`` in
``posthog/api/log_entries.py@d96a6558d9c6ac7eec551547b3f16a8a94e5c8d3``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from support import Api, error

from mockserver import MockServer, Tenant
from mockserver.domain.models import LogEntry


@pytest.fixture
def five(api: Api, server: MockServer) -> list[dict[str, Any]]:
    """Five exports created a minute apart, newest first (the list order)."""
    created = []
    for i in range(5):
        created.append(api.create_export(name=f"export {i}"))
        server.store.clock.advance(60)
    return created[::-1]


def url(tenant: Tenant, query: str = "") -> str:
    base = f"http://localhost/api/projects/{tenant.project_id}/batch_exports/"
    return f"{base}?{query}" if query else base


def test_the_first_page_links_to_the_next(api: Api, tenant: Tenant, five: list[dict[str, Any]]) -> None:
    response = api.get("/batch_exports/?limit=2")

    assert response.status_code == 200
    assert response.json == {
        "count": 5,
        "next": url(tenant, "limit=2&offset=2"),
        "previous": None,
        "results": five[:2],
    }


def test_a_middle_page_links_both_ways(api: Api, tenant: Tenant, five: list[dict[str, Any]]) -> None:
    response = api.get("/batch_exports/?limit=2&offset=2")

    assert response.json == {
        "count": 5,
        "next": url(tenant, "limit=2&offset=4"),
        "previous": url(tenant, "limit=2"),
        "results": five[2:4],
    }


def test_the_last_page_has_no_next(api: Api, tenant: Tenant, five: list[dict[str, Any]]) -> None:
    response = api.get("/batch_exports/?limit=2&offset=4")

    assert response.json == {
        "count": 5,
        "next": None,
        "previous": url(tenant, "limit=2&offset=2"),
        "results": five[4:],
    }


def test_previous_keeps_an_offset_that_stays_positive(api: Api, tenant: Tenant, five: list[dict[str, Any]]) -> None:
    response = api.get("/batch_exports/?limit=2&offset=3")

    assert response.json["previous"] == url(tenant, "limit=2&offset=1")
    assert response.json["results"] == five[3:5]


def test_previous_drops_an_offset_that_would_not_be_positive(
    api: Api, tenant: Tenant, five: list[dict[str, Any]]
) -> None:
    response = api.get("/batch_exports/?limit=3&offset=1")

    assert response.json["previous"] == url(tenant, "limit=3")


def test_links_keep_other_parameters_with_keys_sorted(api: Api, tenant: Tenant, five: list[dict[str, Any]]) -> None:
    response = api.get("/batch_exports/?zeta=z&offset=2&limit=1&alpha=a&tag=x&tag=y")

    assert response.json["next"] == url(tenant, "alpha=a&limit=1&offset=3&tag=x&tag=y&zeta=z")
    assert response.json["previous"] == url(tenant, "alpha=a&limit=1&offset=1&tag=x&tag=y&zeta=z")


def test_links_follow_the_path_as_requested(api: Api, tenant: Tenant, five: list[dict[str, Any]]) -> None:
    response = api.get(f"/api/environments/{tenant.project_id}/batch_exports?limit=4")

    assert (
        response.json["next"] == f"http://localhost/api/environments/{tenant.project_id}/batch_exports?limit=4&offset=4"
    )


def test_the_default_limit_is_a_hundred(api: Api, tenant: Tenant, five: list[dict[str, Any]]) -> None:
    response = api.get("/batch_exports/?offset=1")

    assert response.json == {"count": 5, "next": None, "previous": url(tenant, "limit=100"), "results": five[1:]}


def test_there_is_no_maximum_limit(api: Api, five: list[dict[str, Any]]) -> None:
    response = api.get("/batch_exports/?limit=100000")

    assert (response.json["results"], response.json["next"]) == (five, None)


def test_a_repeated_limit_or_offset_is_read_as_its_last_value(api: Api, five: list[dict[str, Any]]) -> None:
    """Django's ``QueryDict`` gives DRF the last of repeated values."""
    response = api.get("/batch_exports/?limit=2&limit=3&offset=0&offset=1")
    emptied = api.get("/batch_exports/?limit=2&limit=")

    assert response.json["results"] == five[1:4]
    assert "limit=3&offset=4" in response.json["next"]
    assert emptied.json["results"] == five  # the last value is empty: the default limit


def test_a_repeated_key_in_the_query_string_is_read_as_its_last_value(api: Api) -> None:
    key = api.tenant.api_key
    response = api.get("/batch_exports/", headers={}, query_string=f"personal_api_key=phx_nope&personal_api_key={key}")

    assert response.status_code == 200


@pytest.mark.parametrize("limit", ["abc", "0", "-1", "1.5", ""])
def test_an_invalid_limit_falls_back_to_a_hundred(
    api: Api, tenant: Tenant, five: list[dict[str, Any]], limit: str
) -> None:
    response = api.get(f"/batch_exports/?limit={limit}&offset=1")

    assert response.status_code == 200
    assert response.json["results"] == five[1:]
    assert response.json["previous"] == url(tenant, "limit=100")


@pytest.mark.parametrize("offset", ["abc", "-3", ""])
def test_an_invalid_offset_falls_back_to_zero(api: Api, five: list[dict[str, Any]], offset: str) -> None:
    response = api.get(f"/batch_exports/?limit=2&offset={offset}")

    assert response.status_code == 200
    assert (response.json["results"], response.json["previous"]) == (five[:2], None)


def test_an_empty_list_is_a_page_of_zero(api: Api) -> None:
    response = api.get("/batch_exports/")

    assert response.json == {"count": 0, "next": None, "previous": None, "results": []}


def test_an_offset_past_the_end_is_an_empty_page(api: Api, tenant: Tenant, five: list[dict[str, Any]]) -> None:
    response = api.get("/batch_exports/?limit=2&offset=10")

    assert response.json == {"count": 5, "next": None, "previous": url(tenant, "limit=2&offset=8"), "results": []}


def test_exports_created_at_the_same_instant_have_a_stable_order(api: Api) -> None:
    for i in range(3):
        api.create_export(name=f"same time {i}")

    first = api.get("/batch_exports/").json["results"]
    paged = [api.get(f"/batch_exports/?limit=1&offset={i}").json["results"][0] for i in range(3)]

    assert paged == first


def test_the_organization_list_pages_across_projects(api: Api, server: MockServer, tenant: Tenant) -> None:
    other = server.store.add_project(tenant.organization_id)
    mine = api.create_export()
    server.store.clock.advance(60)
    theirs = api.post(
        f"/api/projects/{other.id}/batch_exports/",
        json={"name": "other", "interval": "hour", "destination": {"type": "NoOp", "config": {}}},
    ).json

    response = api.get(f"/api/organizations/{tenant.organization_id}/batch_exports/?limit=1")

    assert response.json == {
        "count": 2,
        "next": f"http://localhost/api/organizations/{tenant.organization_id}/batch_exports/?limit=1&offset=1",
        "previous": None,
        "results": [theirs],
    }
    assert api.get(response.json["next"].removeprefix("http://localhost")).json["results"] == [mine]


# -- logs ------------------------------------------------------------------------------------


@pytest.fixture
def logged(api: Api, server: MockServer, tenant: Tenant) -> dict[str, Any]:
    """An export with three log entries, a minute apart."""
    export = api.create_export()
    for minutes in (1, 2, 3):
        at = server.store.clock.now() + timedelta(minutes=minutes)
        server.store.add_log(LogEntry(tenant.project_id, export["id"], "run", at, "INFO", f"line {minutes}"))
    return export


def test_the_log_limit_caps_the_entries_and_the_count(api: Api, logged: dict[str, Any]) -> None:
    response = api.get(f"/batch_exports/{logged['id']}/logs/?limit=2")

    assert (response.json["count"], response.json["next"], response.json["previous"]) == (2, None, None)
    assert [entry["message"] for entry in response.json["results"]] == ["line 3", "line 2"]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("0", error("min_value", "Ensure this value is greater than or equal to 1.", "limit")),
        ("501", error("max_value", "Ensure this value is less than or equal to 500.", "limit")),
        ("many", error("invalid_input", "A valid integer is required.", "limit")),
    ],
)
def test_the_log_limit_is_validated(api: Api, logged: dict[str, Any], limit: str, expected: dict[str, Any]) -> None:
    response = api.get(f"/batch_exports/{logged['id']}/logs/?limit={limit}")

    assert response.status_code == 400
    assert response.json == expected
