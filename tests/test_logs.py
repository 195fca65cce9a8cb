"""Log filters of PostHog's ``LogEntryMixin``: level, search, after/before, instance_id, limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from support import Api, error

from mockserver import MockServer, Tenant
from mockserver.domain.dates import DATETIME_FORMAT_ERROR
from mockserver.domain.models import LogEntry


@pytest.fixture
def logged(api: Api, server: MockServer, tenant: Tenant) -> dict[str, Any]:
    """An export with five log lines, one a minute from now, two runs' worth."""
    export = api.create_export()
    base = server.store.clock.now()
    lines = [
        ("run-a", "INFO", "Batch export run started"),
        ("run-a", "WARNING", "Retrying a slow upload"),
        ("run-a", "ERROR", "Upload FAILED for good"),
        ("run-b", "info", "Batch export run started"),
        ("run-b", "DEBUG", "Wrote 10 rows"),
    ]
    for minute, (run, level, message) in enumerate(lines, start=1):
        server.store.add_log(
            LogEntry(tenant.project_id, export["id"], run, base + timedelta(minutes=minute), level, message)
        )
    return {"export": export, "base": base}


def messages(api: Api, logged: dict[str, Any], **params: str) -> list[str]:
    response = api.get(f"/batch_exports/{logged['export']['id']}/logs/", query_string=params)
    assert response.status_code == 200, response.json
    return [entry["message"] for entry in response.json["results"]]


def test_levels_are_comma_separated_and_case_insensitive(api: Api, logged: dict[str, Any]) -> None:
    assert messages(api, logged, level="error,warning") == ["Upload FAILED for good", "Retrying a slow upload"]
    # Stored levels are shown upper-cased, as PostHog's SQL does (upper(level)).
    levels = [e["level"] for e in api.get(f"/batch_exports/{logged['export']['id']}/logs/").json["results"]]
    assert levels == ["DEBUG", "INFO", "ERROR", "WARNING", "INFO"]


def test_search_is_a_case_insensitive_substring(api: Api, logged: dict[str, Any]) -> None:
    assert messages(api, logged, search="failed") == ["Upload FAILED for good"]
    assert messages(api, logged, search="RUN STARTED") == ["Batch export run started", "Batch export run started"]


def test_search_keeps_sqls_like_wildcards(api: Api, logged: dict[str, Any]) -> None:
    """PostHog wraps the text in ``%…%`` for ``ILIKE`` without escaping it: ``_`` and ``%`` stay wildcards."""
    assert messages(api, logged, search="upload_failed") == ["Upload FAILED for good"]
    assert messages(api, logged, search="slow%upload") == ["Retrying a slow upload"]
    assert messages(api, logged, search="Wrote_10") == ["Wrote 10 rows"]
    assert messages(api, logged, search="Wrote\\_10") == []


def test_a_level_list_is_trimmed_as_a_whole_not_part_by_part(api: Api, logged: dict[str, Any]) -> None:
    assert messages(api, logged, level=" error,warning ") == ["Upload FAILED for good", "Retrying a slow upload"]
    assert messages(api, logged, level="warning, error") == ["Retrying a slow upload"]  # " ERROR" is no level


@pytest.mark.parametrize("name", ["level", "search", "instance_id"])
def test_a_text_parameter_of_only_spaces_is_blank(api: Api, logged: dict[str, Any], name: str) -> None:
    response = api.get(f"/batch_exports/{logged['export']['id']}/logs/", query_string={name: "  "})
    assert (response.status_code, response.json) == (400, error("blank", "This field may not be blank.", name))
    # Empty, it counts as not sent.
    assert len(messages(api, logged, **{name: ""})) == 5


def test_pages_are_sized_by_the_requests_limit_else_by_posthogs_page_size(api: Api, logged: dict[str, Any]) -> None:
    """Rows are capped at 50 without a ``limit``, but the paginator's links say PostHog's page size, 100."""
    url = f"/batch_exports/{logged['export']['id']}/logs/"
    assert api.get(url, query_string={"offset": "3"}).json["previous"].endswith("/logs/?limit=100")
    assert api.get(url, query_string={"offset": "3", "limit": "2"}).json["previous"].endswith("?limit=2&offset=1")


def test_after_and_before_are_exclusive(api: Api, logged: dict[str, Any]) -> None:
    base = logged["base"]
    after = (base + timedelta(minutes=2)).isoformat()
    before = (base + timedelta(minutes=5)).isoformat()
    assert messages(api, logged, after=after, before=before) == ["Batch export run started", "Upload FAILED for good"]


def test_instance_id_picks_one_runs_lines(api: Api, logged: dict[str, Any]) -> None:
    assert messages(api, logged, instance_id="run-b") == ["Wrote 10 rows", "Batch export run started"]


def test_a_malformed_after_is_a_400_naming_the_parameter(api: Api, logged: dict[str, Any]) -> None:
    response = api.get(f"/batch_exports/{logged['export']['id']}/logs/", query_string={"after": "yesterday"})
    assert (response.status_code, response.json) == (400, error("invalid_input", DATETIME_FORMAT_ERROR, "after"))


def test_limit_caps_what_is_read(api: Api, logged: dict[str, Any]) -> None:
    response = api.get(f"/batch_exports/{logged['export']['id']}/logs/", query_string={"limit": "2"})
    assert response.json["count"] == 2
    assert [e["message"] for e in response.json["results"]] == ["Wrote 10 rows", "Batch export run started"]


def test_another_projects_export_has_no_logs_here(api: Api, logged: dict[str, Any], server: MockServer) -> None:
    other = Api(server, server.store.create_tenant())
    assert other.get(f"/batch_exports/{logged['export']['id']}/logs/").status_code == 404


def test_a_search_with_many_wildcards_is_read_in_one_pass(api: Api, logged: dict[str, Any]) -> None:
    """A regular expression with ``.*`` for each ``%`` would backtrack for minutes on this one."""
    assert messages(api, logged, search="_%_%_%_%_%_%_%_%_%_%zzz") == []
    assert messages(api, logged, search="B%x%r%run%st") == ["Batch export run started", "Batch export run started"]
