"""The runs API: cursor pages of 100 with no count, the seven-day window, cancel and retry."""

from __future__ import annotations

import pytest
from support import Api, error

from mockserver import MockServer

HOUR = 3600


def advance(api: Api, seconds: float) -> None:
    assert api.post("/_mock/clock/advance/", json={"seconds": seconds}).status_code == 200


@pytest.fixture
def fast(server: MockServer) -> Api:
    """A tenant allowed five-minute exports: 288 runs a day, enough to fill pages."""
    return Api(server, server.store.create_tenant(feature_flags=["high-frequency-batch-exports"]))


def test_runs_come_in_cursor_pages_of_100_without_a_count(fast: Api) -> None:
    export = fast.create_export(interval="every 5 minutes")
    advance(fast, 20 * HOUR)  # 240 runs
    first = fast.get(f"/batch_exports/{export['id']}/runs/")
    assert first.status_code == 200
    assert set(first.json) == {"next", "previous", "results"}
    assert len(first.json["results"]) == 100 and first.json["previous"] is None
    assert first.json["next"].startswith(f"http://localhost/api/projects/{fast.tenant.project_id}/batch_exports/")

    seen = [r["id"] for r in first.json["results"]]
    page = first.json
    while page["next"]:
        page = fast.get(page["next"].removeprefix("http://localhost")).json
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == 240
    assert page["previous"] is not None

    created = [r["created_at"] for r in first.json["results"]]
    assert created == sorted(created, reverse=True)  # newest first


def test_a_cursor_that_does_not_decode_is_404(api: Api) -> None:
    export = api.create_export()
    response = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"cursor": "not-a-cursor"})
    assert (response.status_code, response.json) == (404, error("not_found", "Invalid cursor", type="invalid_request"))


def test_ordering_by_data_interval_start_and_unknown_orderings_fall_back(api: Api) -> None:
    export = api.create_export()
    advance(api, 3 * HOUR)
    ascending = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"ordering": "data_interval_start"})
    starts = [r["data_interval_start"] for r in ascending.json["results"]]
    assert starts == sorted(starts)
    fallback = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"ordering": "name"})
    assert fallback.status_code == 200
    assert [r["data_interval_start"] for r in fallback.json["results"]] == sorted(starts, reverse=True)


def test_runs_filter_by_one_or_more_statuses(api: Api, server: MockServer) -> None:
    export = api.create_export()
    api.post("/_mock/outcomes/", json={"batch_export_id": export["id"], "outcomes": [{"status": "Failed"}]})
    advance(api, 3 * HOUR)
    only_failed = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"status": "Failed"})
    assert [r["status"] for r in only_failed.json["results"]] == ["Failed"]
    both = api.get(f"/batch_exports/{export['id']}/runs/?status=Failed&status=Starting")
    assert sorted(r["status"] for r in both.json["results"]) == ["Failed", "Starting"]


def test_statuses_may_be_sent_as_an_indexed_list_as_drf_reads_forms(api: Api) -> None:
    """DRF's ``ListField`` reads ``status[0]=…&status[1]=…`` when ``status`` itself is absent."""
    export = api.create_export()
    api.post("/_mock/outcomes/", json={"batch_export_id": export["id"], "outcomes": [{"status": "Failed"}]})
    advance(api, 3 * HOUR)
    runs = f"/batch_exports/{export['id']}/runs/"

    indexed = api.get(f"{runs}?status[1]=Starting&status[0]=Failed")
    assert sorted(r["status"] for r in indexed.json["results"]) == ["Failed", "Starting"]
    # The plain name wins when both are sent, as in DRF.
    plain = api.get(f"{runs}?status=Failed&status[0]=Starting")
    assert [r["status"] for r in plain.json["results"]] == ["Failed"]
    refused = api.get(f"{runs}?status[3]=NotAStatus")
    assert (refused.status_code, refused.json) == (
        400,
        error("invalid_choice", '"NotAStatus" is not a valid choice.', "status__0"),
    )


def test_an_unknown_status_filter_is_a_400(api: Api) -> None:
    export = api.create_export()
    response = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"status": "NotAStatus"})
    assert (response.status_code, response.json) == (
        400,
        error("invalid_choice", '"NotAStatus" is not a valid choice.', "status__0"),
    )


def test_only_the_last_seven_days_are_listed_unless_after_widens_the_window(api: Api) -> None:
    export = api.create_export(interval="day")
    advance(api, 10 * 24 * HOUR)
    runs = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    assert len(runs) == 7
    wider = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"after": "-14d"}).json["results"]
    assert len(wider) == 10
    oldest = wider[-1]
    # The same window applies to a single run: an old run is 404 unless ?after= reaches it.
    assert api.get(f"/batch_exports/{export['id']}/runs/{oldest['id']}/").status_code == 404
    widened = api.get(f"/batch_exports/{export['id']}/runs/{oldest['id']}/", query_string={"after": "2026-01-01"})
    assert widened.status_code == 200 and widened.json == oldest


@pytest.mark.parametrize(
    ("after", "listed"),
    [
        ("-3days", 3),  # searched, not matched: the first "3d" in the text
        ("dStart", 1),  # today at midnight: the run created just after it
        ("-1dStart", 2),  # yesterday at midnight
        ("-1w", 7),
        ("-d", 0),  # no number: now
        ("nonsense", 0),  # nothing it can read: now, so nothing was created after it
    ],
)
def test_after_reads_relative_dates_as_posthog_does(api: Api, after: str, listed: int) -> None:
    export = api.create_export(interval="day")
    advance(api, 10 * 24 * HOUR)
    runs = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"after": after}).json["results"]
    assert len(runs) == listed


def test_runs_of_another_projects_export_list_empty_and_retrieve_404(api: Api, server: MockServer) -> None:
    export = api.create_export()
    advance(api, HOUR)
    (run,) = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    other = Api(server, server.store.create_tenant())
    listed = other.get(f"/batch_exports/{export['id']}/runs/")
    assert (listed.status_code, listed.json) == (200, {"next": None, "previous": None, "results": []})
    assert other.get(f"/batch_exports/{export['id']}/runs/{run['id']}/").status_code == 404


def test_cancel_a_running_run_then_cancelling_again_is_a_400(api: Api) -> None:
    export = api.create_export()
    advance(api, HOUR + 60)
    (run,) = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    assert run["status"] == "Running"
    response = api.post(f"/batch_exports/{export['id']}/runs/{run['id']}/cancel/")
    assert (response.status_code, response.json) == (200, {"cancelled": True})
    assert api.get(f"/batch_exports/{export['id']}/runs/{run['id']}/").json["status"] == "Cancelled"
    again = api.post(f"/batch_exports/{export['id']}/runs/{run['id']}/cancel/")
    assert (again.status_code, again.json) == (
        400,
        error("invalid_input", "Cannot cancel a run that is in 'Cancelled' status"),
    )
    advance(api, HOUR)  # a cancelled run never completes
    assert api.get(f"/batch_exports/{export['id']}/runs/{run['id']}/").json["status"] == "Cancelled"


def test_a_starting_run_can_be_cancelled_too(api: Api) -> None:
    export = api.create_export()
    advance(api, HOUR)
    (run,) = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    assert run["status"] == "Starting"
    assert api.post(f"/batch_exports/{export['id']}/runs/{run['id']}/cancel/").json == {"cancelled": True}


def test_a_completed_run_cannot_be_cancelled(api: Api) -> None:
    export = api.create_export()
    advance(api, 2 * HOUR)
    completed = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"status": "Completed"}).json["results"]
    response = api.post(f"/batch_exports/{export['id']}/runs/{completed[0]['id']}/cancel/")
    assert response.json == error("invalid_input", "Cannot cancel a run that is in 'Completed' status")


def test_run_logs_are_the_runs_own_lines_newest_first(api: Api) -> None:
    export = api.create_export()
    advance(api, HOUR + 180)
    (run,) = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    logs = api.get(f"/batch_exports/{export['id']}/runs/{run['id']}/logs/").json
    assert logs["count"] == 3
    assert [entry["level"] for entry in logs["results"]] == ["INFO", "INFO", "INFO"]
    assert {entry["instance_id"] for entry in logs["results"]} == {run["id"]}
    assert {entry["log_source_id"] for entry in logs["results"]} == {export["id"]}
    timestamps = [entry["timestamp"] for entry in logs["results"]]
    assert timestamps == sorted(timestamps, reverse=True)
    errors_only = api.get(f"/batch_exports/{export['id']}/runs/{run['id']}/logs/", query_string={"level": "ERROR"})
    assert errors_only.json["results"] == []


def test_the_export_logs_gather_every_run_and_filter_by_search(api: Api) -> None:
    export = api.create_export()
    advance(api, 3 * HOUR)
    logs = api.get(f"/batch_exports/{export['id']}/logs/", query_string={"search": "SUCCESSFULLY"}).json
    assert logs["count"] == 2
    assert all("finished successfully" in entry["message"] for entry in logs["results"])


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_runs_are_read_only(api: Api, method: str) -> None:
    export = api.create_export()
    response = api.request(method, f"/batch_exports/{export['id']}/runs/")
    assert response.status_code == 405
    assert response.json == error("method_not_allowed", f'Method "{method}" not allowed.', type="invalid_request")


@pytest.mark.parametrize("listing", ["runs", "backfills"])
def test_a_list_under_an_export_id_that_is_not_a_uuid_is_not_found(api: Api, listing: str) -> None:
    response = api.get(f"/batch_exports/0/{listing}/")
    assert (response.status_code, response.json) == (404, error("not_found", "Not found.", type="invalid_request"))
