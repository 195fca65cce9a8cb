"""The control plane refuses bad input as PostHog's API does: a 400 naming the field, nothing changed.

A typo in a scope or a feature flag used to be accepted and surface later as a puzzling
403; now it is refused where it was made.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import call

from mockserver import MockServer
from mockserver.domain.store import FEATURE_FLAGS, SCOPES

EXPORT = "018f5a19-33c0-7000-9e8d-7c6b5a493827"


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "attr"),
    [
        ("POST", "/_mock/tenants/", {"scopes": ["batch_export:raed"]}, "invalid_choice", "scopes__0"),
        ("POST", "/_mock/tenants/", {"scopes": ["*", "batch_exprot:read"]}, "invalid_choice", "scopes__1"),
        ("POST", "/_mock/tenants/", {"feature_flags": ["high-frequency"]}, "invalid_choice", "feature_flags__0"),
        ("POST", "/_mock/tenants/", {"scope": ["batch_export:read"]}, "unknown_field", "scope"),
        ("POST", "/_mock/tenants/", {"scopes": "batch_export:read"}, "not_a_list", "scopes"),
        ("POST", "/_mock/tenants/", {"project_name": 5}, "invalid_input", "project_name"),
        ("POST", "/_mock/clock/advance/", {"seconds": 60, "minutes": 1}, "unknown_field", "minutes"),
        ("POST", "/_mock/clock/advance/", {"seconds": "60"}, "invalid_input", "seconds"),
        ("POST", "/_mock/clock/set/", {"now": "2027-01-01T00:00:00Z", "tz": "UTC"}, "unknown_field", "tz"),
        ("POST", "/_mock/clock/set/", {"now": 5}, "invalid_input", "now"),
        ("POST", "/_mock/outcomes/", {"batch_export_id": EXPORT, "outcomes": [{"status": "Failed", "error": "x"}]},
         "unknown_field", "outcomes__0__error"),
        ("POST", "/_mock/outcomes/", {"batch_export_id": EXPORT, "outcomes": [{"status": "Exploded"}]},
         "invalid_choice", "outcomes__0__status"),
        ("PUT", "/_mock/progression/", {"start_after": 1, "finish_after": 2, "fail_after": 3}, "unknown_field",
         "fail_after"),
        ("PUT", "/_mock/progression/", {"start_after": True, "finish_after": 2}, "invalid_input", "start_after"),
        # Further off than the clock can reach: the run would wait for good.
        ("PUT", "/_mock/progression/", {"start_after": 1e308, "finish_after": 2}, "max_value", "start_after"),
        ("POST", "/_mock/faults/", {"status": 503, "operation": "batch_exports_list"}, "unknown_field", "operation"),
        ("POST", "/_mock/faults/", {"status": 503, "times": "2"}, "invalid_input", "times"),
        ("POST", "/_mock/latency/", {"seconds": 1, "operation": "batch_exports_list"}, "unknown_field", "operation"),
        ("POST", "/_mock/latency/", {"seconds": "slow"}, "invalid_input", "seconds"),
    ],
)  # fmt: skip
def test_bad_control_plane_input_is_a_400_naming_the_field(
    method: str, path: str, body: dict[str, Any], code: str, attr: str
) -> None:
    server = MockServer(strict=True)
    before = server.store.snapshot()
    response = call(server, method, path, json=body)
    assert response.status_code == 400, response.json
    assert response.json["type"] == "validation_error"
    assert (response.json["code"], response.json["attr"]) == (code, attr)
    assert server.store.snapshot() == before
    assert server.faults.active() == [] and server.latency.rules() == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"status": 503, "operation": "batch_exports_list"}, 'Unknown field. Did you mean "operation_id"?'),
        ({"status": 503, "colour": "red"}, "Unknown field (known: operation_id, status, drop, delay, times, "
                                           "headers, body, project_id, api_key)."),
    ],
)  # fmt: skip
def test_an_unknown_control_plane_field_is_answered_with_the_one_it_may_mean(body: dict[str, Any], detail: str) -> None:
    response = call(MockServer(), "POST", "/_mock/faults/", json=body)
    assert response.status_code == 400
    assert response.json["detail"] == detail


@pytest.mark.parametrize(
    ("path", "query", "attr"),
    [
        ("/_mock/faults/", "project_id=abc", "project_id"),
        ("/_mock/latency/", "project_id=abc", "project_id"),
        ("/_mock/journal/", "operation_id=batch_exports_explode", "operation_id"),
        ("/_mock/journal/", "status=ok", "status"),
        ("/_mock/outcomes/", "batch_export_id=not-a-uuid", "batch_export_id"),
        # A misspelt filter would otherwise be ignored and the answer would show everything.
        ("/_mock/journal/", "operation=batch_exports_list", "operation"),
        ("/_mock/state/", "tenants=1", "tenants"),
    ],
)
def test_bad_control_plane_queries_are_a_400_naming_the_parameter(path: str, query: str, attr: str) -> None:
    response = call(MockServer(strict=True), "GET", f"{path}?{query}")
    assert response.status_code == 400
    assert response.json["attr"] == attr


def test_every_known_scope_and_flag_is_accepted() -> None:
    server = MockServer(strict=True)
    response = call(server, "POST", "/_mock/tenants/", json={"scopes": list(SCOPES), "feature_flags": FEATURE_FLAGS})
    assert response.status_code == 201
    assert response.json["feature_flags"] == sorted(FEATURE_FLAGS)


def test_a_lifecycle_step_is_at_most_a_year_in_the_spec_and_in_python() -> None:
    from mockserver.domain.lifecycle import MAX_STEP_SECONDS, Progression
    from mockserver.http.spec import load_spec

    schema = load_spec().document["components"]["schemas"]["ProgressionRequest"]["properties"]
    assert schema["start_after"]["maximum"] == schema["finish_after"]["maximum"] == MAX_STEP_SECONDS
    with pytest.raises(ValueError, match="finish_after must be between 0 and 31,536,000 seconds"):
        Progression(30, 1e15)


def test_the_python_call_refuses_what_http_refuses() -> None:
    from mockserver.errors import ValidationError

    server = MockServer()
    with pytest.raises(ValidationError, match="batch_export:raed") as caught:
        server.store.create_tenant(scopes=["batch_export:raed"])
    assert caught.value.attr == "scopes__0"
    assert server.store.teams == {}
