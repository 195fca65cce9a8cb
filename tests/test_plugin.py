"""The pytest plugin as a downstream suite uses it: the ``posthog_mock`` fixture and marker.

These tests are the plugin's documentation: each shows one thing a user does.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import requests

from mockserver.clock import ClockError
from mockserver.testing import PostHogMock, Settings, UnusedFaults


def create_export(client: httpx.Client, project_id: int) -> dict[str, object]:
    response = client.post(
        f"/api/projects/{project_id}/batch_exports/",
        json={"name": "nightly", "interval": "hour", "destination": {"type": "NoOp", "config": {}}},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


# -- a tenant on the shared server ----------------------------------------------------------


def test_each_test_gets_its_own_tenant_on_the_shared_server(posthog_mock: PostHogMock) -> None:
    response = requests.get(f"{posthog_mock.project_url}/batch_exports/", headers=posthog_mock.headers, timeout=5)
    assert response.json()["count"] == 0
    assert not posthog_mock.private


def test_the_shared_clock_explains_itself_when_asked_to_go_back(posthog_mock: PostHogMock) -> None:
    with pytest.raises(ClockError, match=r'clock="private"'):
        posthog_mock.set_time("2000-01-01T00:00:00Z")


# -- a fake of the test's own ------------------------------------------------------------------


@pytest.mark.posthog_mock(clock="private", start="2026-03-01T00:00:00Z")
def test_a_private_clock_starts_where_the_test_says(posthog_mock: PostHogMock) -> None:
    assert posthog_mock.now == datetime(2026, 3, 1, tzinfo=UTC)
    posthog_mock.set_time("2026-03-02T00:00:00Z")


@pytest.mark.posthog_mock(clock="private", start="2026-02-01T00:00:00Z")
def test_another_private_clock_may_start_earlier(posthog_mock: PostHogMock) -> None:
    posthog_mock.set_time("2026-02-01T06:00:00Z")  # the test above went further: no matter
    assert posthog_mock.now.hour == 6


@pytest.mark.posthog_mock(clock="private")
def test_a_private_fake_needs_no_port_until_asked(posthog_mock: PostHogMock) -> None:
    assert posthog_mock._server is None
    with posthog_mock.httpx_client() as client:
        create_export(client, posthog_mock.project_id)
    assert posthog_mock._server is None
    assert requests.get(f"{posthog_mock.project_url}/batch_exports/", headers=posthog_mock.headers,
                        timeout=5).json()["count"] == 1  # fmt: skip


@pytest.mark.posthog_mock(feature_flags=["high-frequency-batch-exports"], scopes=["batch_export:read"])
def test_feature_flags_and_scopes_per_test(posthog_mock: PostHogMock) -> None:
    with posthog_mock.httpx_client() as client:
        response = client.post(
            f"/api/projects/{posthog_mock.project_id}/batch_exports/",
            json={"name": "x", "interval": "every 5 minutes", "destination": {"type": "NoOp", "config": {}}},
        )
    assert response.status_code == 403  # a read-only key
    assert posthog_mock.tenant.feature_flags == ["high-frequency-batch-exports"]


@pytest.mark.posthog_mock(seed=7)
def test_a_seed_of_its_own_implies_a_private_fake(posthog_mock: PostHogMock) -> None:
    assert posthog_mock.private and posthog_mock.store.ids.seed == 7


# -- which PostHog API: the profile -----------------------------------------------------------

HOGQL_EXPORT = {
    "name": "orders",
    "interval": "hour",
    "model": "hogql",
    "destination": {"type": "NoOp", "config": {}},
    "hogql_query": "SELECT uuid AS id, event FROM events WHERE timestamp >= {data_interval_start}",
    "primary_key": ["id"],
    "incremental_mode": "MERGE",
}


def create_hogql_export(mock: PostHogMock) -> httpx.Response:
    """A ``hogql`` export: today's PostHog has the model, the public docs' API does not."""
    with mock.httpx_client() as client:
        return client.post(f"/api/projects/{mock.project_id}/batch_exports/", json=HOGQL_EXPORT)


@pytest.mark.posthog_mock(profile="current", feature_flags=["hogql-batch-exports"], strict=True)
def test_profile_current_gives_the_test_todays_posthog_api(posthog_mock: PostHogMock) -> None:
    response = create_hogql_export(posthog_mock)

    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["model"], created["primary_key"], created["incremental_mode"]) == ("hogql", ["id"], "MERGE")
    assert not posthog_mock.private  # a tenant of its own profile on the shared server


def test_an_unmarked_test_gets_the_api_of_the_public_docs(posthog_mock: PostHogMock) -> None:
    response = create_hogql_export(posthog_mock)

    assert response.status_code == 400  # under current, without the feature flag, it would be a 403
    assert (response.json()["attr"], response.json()["detail"]) == ("model", '"hogql" is not a valid choice.')
    assert posthog_mock.tenant.profile == "docs"


@pytest.mark.posthog_mock(clock="private", profile="current")
def test_a_private_fake_plays_the_profile_for_all_its_tenants(posthog_mock: PostHogMock) -> None:
    assert posthog_mock.create_export(destination="NoOp")["incremental_mode"] == "APPEND"
    assert posthog_mock.store.create_tenant().profile == "current"


# -- time helpers --------------------------------------------------------------------------------


@pytest.mark.posthog_mock(clock="private")
def test_advance_and_run_until(posthog_mock: PostHogMock) -> None:
    export = posthog_mock.create_export(destination="NoOp", interval="hour")
    with posthog_mock.requests_session() as session:

        def first_run_completed() -> bool:
            runs = session.get(f"http://posthog.mock/api/projects/{posthog_mock.project_id}/batch_exports/"
                               f"{export['id']}/runs/").json()["results"]  # fmt: skip
            return bool(runs) and runs[-1]["status"] == "Completed"

        reached = posthog_mock.run_until(first_run_completed, step=60)
    assert datetime(2026, 1, 5, 13, tzinfo=UTC) < reached < datetime(2026, 1, 5, 13, 10, tzinfo=UTC)
    with pytest.raises(AssertionError, match="still false after 120 virtual seconds"):
        posthog_mock.run_until(lambda: False, within=120)


# -- asserting on calls ------------------------------------------------------------------------


@pytest.mark.posthog_mock(clock="private")
def test_calls_and_assert_called_once(posthog_mock: PostHogMock) -> None:
    with posthog_mock.httpx_client() as client:
        export = create_export(client, posthog_mock.project_id)
        client.post(f"/api/projects/{posthog_mock.project_id}/batch_exports/{export['id']}/pause/")
    call = posthog_mock.assert_called_once("batch_exports_create")
    assert call.request_json["name"] == "nightly" and call.status == 201
    posthog_mock.assert_called_once("environments_batch_exports_pause_create")  # any spelling
    posthog_mock.assert_not_called("batch_exports_destroy")
    assert [c.operation for c in posthog_mock.calls()] == ["batch_exports_create", "batch_exports_pause_create"]
    with pytest.raises(
        AssertionError,
        match=r"expected batch_exports_unpause_create to be called 1 time\(s\); called 0 time\(s\); "
        r"all 2 request\(s\) of this test's tenant: POST /api/projects/\d+/batch_exports/ → 201",
    ):
        posthog_mock.assert_called_once("batch_exports_unpause_create")  # fmt: skip


def test_calls_count_organization_urls_and_requests_refused_before_the_project(posthog_mock: PostHogMock) -> None:
    with posthog_mock.httpx_client() as client:
        assert client.get(f"/api/organizations/{posthog_mock.organization_id}/batch_exports/").status_code == 200
        unauthenticated = f"/api/projects/{posthog_mock.project_id}/batch_exports/"
        assert client.get(unauthenticated, headers={"Authorization": ""}).status_code == 401
        assert client.get(f"/api/projects/{posthog_mock.project_id + 1000}/batch_exports/").status_code == 404
        # Another tenant's key on this project is that tenant's call, not this one's.
        other = posthog_mock.store.create_tenant().api_key
        assert client.get(unauthenticated, headers={"Authorization": f"Bearer {other}"}).status_code == 403
    assert [c.status for c in posthog_mock.calls("batch_exports_list")] == [200, 401, 404]
    posthog_mock.assert_called("batch_exports_list", times=1, status=401)


@pytest.mark.posthog_mock(clock="private")
def test_a_count_says_when_the_journal_dropped_some_of_the_tests_calls(posthog_mock: PostHogMock) -> None:
    posthog_mock.app.journal.max_entries = 3
    with posthog_mock.httpx_client() as client:
        for _ in range(5):
            client.get(f"/api/projects/{posthog_mock.project_id}/batch_exports/")
    with pytest.raises(AssertionError, match=r"called 3 time\(s\) \(the journal keeps the last 3 requests"):
        posthog_mock.assert_called("batch_exports_list", times=5)


# -- planned outcomes and faults ---------------------------------------------------------------


@pytest.mark.posthog_mock(clock="private")
def test_plan_outcomes_by_status_name(posthog_mock: PostHogMock) -> None:
    export = posthog_mock.create_export(interval="hour")
    posthog_mock.plan_outcomes(export["id"], ["Failed", {"status": "Completed", "records_completed": 5}])
    posthog_mock.advance(2 * 3600 + 600)
    runs = {r.id: r for r in posthog_mock.store.runs.values()}
    assert sorted((r.status, r.records_completed) for r in runs.values()) == [("Completed", 5), ("Failed", 0)]


def test_plan_outcomes_wants_a_list_and_names_the_endings(posthog_mock: PostHogMock) -> None:
    export = posthog_mock.create_export(interval="hour")
    with pytest.raises(TypeError, match=r"outcomes: give a list, such as \['Failed'\], one item per run"):
        posthog_mock.plan_outcomes(export["id"], "Failed")
    with pytest.raises(ValueError, match=r"'Faild' is not a way a run can end \(one of Completed, .*Failed"):
        posthog_mock.plan_outcomes(export["id"], ["Faild"])


@pytest.mark.posthog_mock(clock="private")
def test_a_fault_may_answer_a_success_with_a_body_and_headers(posthog_mock: PostHogMock) -> None:
    posthog_mock.fault("batch_exports_list", 200, body={"count": 0, "results": []}, headers={"X-Cache": "HIT"})
    with posthog_mock.httpx_client() as client:
        response = client.get(f"/api/projects/{posthog_mock.project_id}/batch_exports/")
    assert (response.status_code, response.json(), response.headers["X-Cache"]) == (
        200, {"count": 0, "results": []}, "HIT")  # fmt: skip


@pytest.mark.posthog_mock(clock="private")
def test_a_dropped_connection_is_the_clients_own_error(posthog_mock: PostHogMock) -> None:
    posthog_mock.fault("batch_exports_list", drop=True, times=2)
    path = f"/api/projects/{posthog_mock.project_id}/batch_exports/"
    with posthog_mock.httpx_client() as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(path)
    with posthog_mock.requests_session() as session, pytest.raises(requests.ConnectionError):
        session.get(f"http://posthog.mock{path}")
    assert [c.status for c in posthog_mock.calls("batch_exports_list")] == [0, 0]


@pytest.mark.posthog_mock(clock="private")
def test_a_dropped_connection_on_a_real_socket(posthog_mock: PostHogMock) -> None:
    posthog_mock.fault("batch_exports_list", drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{posthog_mock.project_url}/batch_exports/", headers=posthog_mock.headers, timeout=5)


@pytest.mark.posthog_mock(clock="private")
def test_a_delay_past_the_timeout_times_out_but_the_export_exists(posthog_mock: PostHogMock) -> None:
    posthog_mock.fault("batch_exports_create", delay=30)
    with posthog_mock.httpx_client(timeout=5) as client, pytest.raises(httpx.ReadTimeout):
        create_export(client, posthog_mock.project_id)  # raised at once: nobody sleeps 30 s
    assert len(posthog_mock.store.batch_exports) == 1  # the server did the work all the same
    posthog_mock.fault("batch_exports_list", delay=30)
    with posthog_mock.requests_session() as session, pytest.raises(requests.ReadTimeout):
        session.get(f"http://posthog.mock/api/projects/{posthog_mock.project_id}/batch_exports/", timeout=1)


@pytest.mark.posthog_mock(clock="private")
def test_a_delay_past_the_timeout_on_a_real_socket(posthog_mock: PostHogMock) -> None:
    posthog_mock.fault("batch_exports_list", delay=1.0)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{posthog_mock.project_url}/batch_exports/", headers=posthog_mock.headers, timeout=0.2)


@pytest.mark.posthog_mock(clock="private")
def test_unused_faults_are_reported_on_request(posthog_mock: PostHogMock) -> None:
    posthog_mock.fault("batch_exports_list", 503, times=2)
    with pytest.raises(UnusedFaults, match=r"1 planned fault\(s\) never used: batch_exports_list: answer 503, 2 of 2"):
        posthog_mock.assert_faults_used()
    posthog_mock.app.faults.clear()


# -- in-process clients and intercept ----------------------------------------------------------


@pytest.mark.posthog_mock(clock="private")
def test_intercept_routes_posthogs_real_hosts_to_the_fake(posthog_mock: PostHogMock) -> None:
    path = f"/api/projects/{posthog_mock.project_id}/batch_exports/"
    with posthog_mock.intercept():
        by_requests = requests.get(f"https://us.posthog.com{path}", headers=posthog_mock.headers, timeout=5)
        by_httpx = httpx.get(f"https://eu.posthog.com{path}", headers=posthog_mock.headers)
    assert by_requests.json()["count"] == by_httpx.json()["count"] == 0
    assert len(posthog_mock.calls("batch_exports_list")) == 2


def test_intercept_takes_a_self_hosted_url_or_a_host_and_port(posthog_mock: PostHogMock) -> None:
    path = f"/api/projects/{posthog_mock.project_id}/batch_exports/"
    with posthog_mock.intercept(hosts=("https://posthog.example.internal", "localhost:8000")):
        by_url = requests.get(f"https://posthog.example.internal{path}", headers=posthog_mock.headers, timeout=5)
        by_port = httpx.get(f"http://localhost:8000{path}", headers=posthog_mock.headers)
    assert by_url.status_code == by_port.status_code == 200
    assert len(posthog_mock.calls("batch_exports_list")) == 2


def test_intercept_keeps_the_sessions_own_retry_policy(posthog_mock: PostHogMock) -> None:
    """Code that mounts an ``HTTPAdapter`` with urllib3 retries meets planned faults as over a network."""
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=Retry(total=3, status_forcelist=[503], backoff_factor=0)))
    url = f"https://us.posthog.com/api/projects/{posthog_mock.project_id}/batch_exports/"
    posthog_mock.fault("batch_exports_list", 503, times=2)
    with posthog_mock.intercept():
        assert session.get(url, headers=posthog_mock.headers, timeout=5).status_code == 200
        assert len(posthog_mock.calls("batch_exports_list")) == 3  # two 503s, then the answer

        posthog_mock.fault("batch_exports_list", 503, times=5)
        with pytest.raises(requests.exceptions.RetryError):  # the retries ran out, as urllib3 says it
            session.get(url, headers=posthog_mock.headers, timeout=5)

        posthog_mock.app.faults.clear(project_id=posthog_mock.project_id)
        posthog_mock.fault("batch_exports_list", drop=True, times=1)
        assert session.get(url, headers=posthog_mock.headers, timeout=5).status_code == 200  # a drop is retried
        # Without a retry policy (requests' default) the first fault is what the caller sees.
        posthog_mock.fault("batch_exports_list", drop=True, times=1)
        with pytest.raises(requests.ConnectionError):
            requests.get(url, headers=posthog_mock.headers, timeout=5)


def test_intercept_refuses_hosts_it_cannot_read(posthog_mock: PostHogMock) -> None:
    with pytest.raises(TypeError, match=r"give a tuple of hosts, such as \('posthog.example.internal',\)"):
        posthog_mock.intercept(hosts="posthog.example.internal").__enter__()
    with pytest.raises(ValueError, match="has a path; give a host, host:port or scheme://host"):
        posthog_mock.intercept(hosts=["https://posthog.example.internal/api/"]).__enter__()


# -- the other fixtures ------------------------------------------------------------------------


def test_the_session_server_fixture_is_the_shared_fake(posthog_mock_server: Any, posthog_mock: PostHogMock) -> None:
    assert posthog_mock.url == posthog_mock_server.url
    assert posthog_mock.app is posthog_mock_server.app
    assert posthog_mock.project_id in posthog_mock_server.app.store.teams


@pytest.mark.posthog_mock(clock="private", scopes=["*"])
def test_the_settings_fixture_shows_what_the_test_got(posthog_mock_settings: Settings) -> None:
    assert (posthog_mock_settings.clock, posthog_mock_settings.scopes) == ("private", ("*",))


@pytest.mark.posthog_mock(clock="private")
def test_the_async_httpx_client(posthog_mock: PostHogMock) -> None:
    async def listing() -> int:
        async with posthog_mock.async_httpx_client() as client:
            response = await client.get(f"/api/projects/{posthog_mock.project_id}/batch_exports/")
            return int(response.json()["count"])

    posthog_mock.create_export(destination="NoOp")
    assert asyncio.run(listing()) == 1


def test_planned_latency_leaves_the_event_loop_free(posthog_mock: PostHogMock) -> None:
    """As a slow server would: gathered requests wait together, and asyncio's timeouts fire."""
    posthog_mock.latency(0.4, "batch_exports_list")
    url = f"/api/projects/{posthog_mock.project_id}/batch_exports/"

    async def gathered() -> tuple[list[int], float, bool]:
        async with posthog_mock.async_httpx_client() as client:
            started = time.monotonic()
            answers = await asyncio.gather(*(client.get(url) for _ in range(4)))
            took = time.monotonic() - started
            try:
                await asyncio.wait_for(client.get(url), 0.1)
                timed_out = False
            except TimeoutError:
                timed_out = True
        return [a.status_code for a in answers], took, timed_out

    statuses, took, timed_out = asyncio.run(gathered())
    assert statuses == [200] * 4 and took < 1.2  # one after another: 1.6 s
    assert timed_out


def test_requests_takes_a_urllib3_timeout_as_its_own_adapter_does(posthog_mock: PostHogMock) -> None:
    import requests
    import urllib3

    timeout: Any = urllib3.Timeout(connect=1, read=2)  # requests takes one (its stubs say otherwise)
    listing = f"/api/projects/{posthog_mock.project_id}/batch_exports/"
    assert posthog_mock.requests_session().get(listing, timeout=timeout).status_code == 200
    with posthog_mock.intercept():
        answer = requests.get(f"https://us.posthog.com{listing}", headers=posthog_mock.headers, timeout=timeout)
    assert answer.status_code == 200


def test_the_requests_session_takes_a_retry_policy(posthog_mock: PostHogMock) -> None:
    from urllib3.util.retry import Retry

    session = posthog_mock.requests_session(max_retries=Retry(total=3, status_forcelist=[503], backoff_factor=0))
    posthog_mock.fault("batch_exports_list", 503, times=2)
    assert session.get(f"/api/projects/{posthog_mock.project_id}/batch_exports/").status_code == 200
    assert len(posthog_mock.calls("batch_exports_list")) == 3


def test_calls_with_a_limit_are_the_tests_own_newest(posthog_mock: PostHogMock) -> None:
    """The limit applies to this tenant's calls, not to the journal before they are picked out."""
    with posthog_mock.httpx_client() as client:
        for _ in range(3):
            client.get(f"/api/projects/{posthog_mock.project_id}/batch_exports/")
        client.get("/_mock/clock/")
        client.post("/_mock/clock/advance/", json={"seconds": 1})
    assert len(posthog_mock.calls()) == 3
    assert [c.id for c in posthog_mock.calls(limit=2)] == [c.id for c in posthog_mock.calls()[-2:]]
    assert len(posthog_mock.calls(limit=0)) == 3  # no limit, as Journal.entries reads it


@pytest.mark.posthog_mock(clock="private")
def test_set_time_reads_a_time_without_a_zone_as_utc_and_says_why_it_refuses(posthog_mock: PostHogMock) -> None:
    from datetime import datetime

    assert posthog_mock.set_time(datetime(2026, 3, 1)).isoformat() == "2026-03-01T00:00:00+00:00"
    with pytest.raises(ClockError, match="never moves backwards: it is 2026-03-01T00:00:00Z, later than 2026-02-01"):
        posthog_mock.set_time("2026-02-01")
    other = PostHogMock.private_fake(start="2026-04-01T00:00:00Z")
    assert other.now.isoformat() == "2026-04-01T00:00:00+00:00"


def test_the_requests_session_takes_paths_as_the_httpx_client_does(posthog_mock: PostHogMock) -> None:
    """``requests_session()`` has a base URL: a path, with or without its leading slash, reaches the fake."""
    export = posthog_mock.create_export(destination="NoOp", interval="hour")
    path = f"api/projects/{posthog_mock.project_id}/batch_exports/{export['id']}/"
    with posthog_mock.requests_session() as session:
        assert session.post(f"/{path}pause/").json() == {"paused": True}
        assert session.get(path).json()["paused"] is True
        assert session.get(f"http://posthog.mock/{path}").json()["id"] == export["id"]
        assert session.get("/_mock/clock/?next=http://elsewhere/").json() == {"now": posthog_mock.now.isoformat()
                                                                              .replace("+00:00", "Z")}  # fmt: skip


def test_a_mistyped_operation_name_is_answered_with_the_names_it_may_mean(posthog_mock: PostHogMock) -> None:
    """operationIds are DRF's (an action ends in its method's verb); the error points at the right one."""
    with pytest.raises(ValueError, match="did you mean batch_exports_pause_create"):
        posthog_mock.assert_called("batch_exports_pause", times=1)
    with pytest.raises(ValueError, match="did you mean batch_exports_pause_create"):
        posthog_mock.fault("environments_batch_exports_pause", 503)
    with pytest.raises(ValueError, match=r"did you mean batch_exports_list\b"):
        posthog_mock.calls("batch_export_list")


def test_a_second_project_in_the_tenants_organization(posthog_mock: PostHogMock) -> None:
    other = posthog_mock.add_project("Staging")
    with posthog_mock.httpx_client() as client:
        body = {"name": "staging", "interval": "day", "destination": {"type": "NoOp", "config": {}}}
        created = client.post(f"/api/projects/{other}/batch_exports/", json=body)
        listed = client.get(f"/api/organizations/{posthog_mock.organization_id}/batch_exports/").json()
    assert created.status_code == 201
    assert [e["team_id"] for e in listed["results"]] == [other]
