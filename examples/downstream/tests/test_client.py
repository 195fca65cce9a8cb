"""The client against the fake: PostHog's host is intercepted (see pyproject.toml)."""

from __future__ import annotations

import httpx
import pytest
from export_client import BatchExportsClient, PostHogError


@pytest.fixture
def client(posthog_mock):
    return BatchExportsClient(posthog_mock.api_key, posthog_mock.project_id, sleep=lambda _s: None)


def test_create_then_list(client, posthog_mock):
    export = client.create_s3_export("events", "my-bucket", posthog_mock.integration("aws-s3"))
    assert [e["id"] for e in client.list_exports()] == [export["id"]]
    posthog_mock.assert_called_once("batch_exports_create")


def test_a_bad_bucket_name_is_postHogs_error(client, posthog_mock):
    with pytest.raises(PostHogError) as caught:
        client.create_s3_export("", "my-bucket", posthog_mock.integration("aws-s3"))
    assert caught.value.status == 400 and caught.value.body["attr"] == "name"


def test_throttling_is_retried(client, posthog_mock):
    posthog_mock.fault("batch_exports_list", 429, times=2, headers={"Retry-After": "3"})
    assert client.list_exports() == []
    assert [c.status for c in posthog_mock.calls("batch_exports_list")] == [429, 429, 200]


def test_a_dropped_connection_is_retried_then_given_up(client, posthog_mock):
    posthog_mock.fault("batch_exports_list", drop=True, times=3)
    with pytest.raises(httpx.RemoteProtocolError):
        client.list_exports()


def test_a_timeout_is_not_retried(posthog_mock):
    slow = BatchExportsClient(posthog_mock.api_key, posthog_mock.project_id, timeout=0.5)
    posthog_mock.fault("batch_exports_list", delay=30)
    with pytest.raises(httpx.ReadTimeout):
        slow.list_exports()


@pytest.mark.posthog_mock(clock="private", scenario="failing-snowflake")
def test_failed_runs_are_found_and_retried(client, posthog_mock):
    export_id = posthog_mock.scenario.exports["warehouse"]["id"]
    failed = client.failed_runs(export_id)
    assert len(failed) == 3
    backfills = {client.retry(export_id, run["id"]) for run in failed}
    assert len(backfills) == 3
    posthog_mock.advance(3600)
    # Retries are new runs (the failures stay in history); the first took the scenario's planned FailedRetryable.
    assert len(client.failed_runs(export_id)) == 4


@pytest.mark.posthog_mock(clock="private", start="2026-06-01T00:00:00Z")
def test_pausing_stops_new_runs(client, posthog_mock):
    export = client.create_s3_export("events", "b", posthog_mock.integration("aws-s3"))
    posthog_mock.advance(2 * 3600)
    client.pause(export["id"])
    before = len(client.runs(export["id"]))
    posthog_mock.advance(24 * 3600)
    assert len(client.runs(export["id"])) == before == 2
