"""Backfills: every check of PostHog's ``create_backfill``, progress, cancel and pages of 50."""

from __future__ import annotations

from typing import Any

import pytest
from support import Api, error

from mockserver import MockServer

HOUR = 3600
DAY = 24 * HOUR


def advance(api: Api, seconds: float) -> None:
    assert api.post("/_mock/clock/advance/", json={"seconds": seconds}).status_code == 200


def backfill(api: Api, export_id: str, **body: object) -> tuple[int, Any]:
    response = api.post(f"/batch_exports/{export_id}/backfills/", json=body)
    return response.status_code, response.json


def test_a_backfill_runs_one_interval_after_another_and_completes(api: Api) -> None:
    export = api.create_export(interval="hour")
    status, body = backfill(api, export["id"], start_at="2026-01-05T08:00:00+00:00", end_at="2026-01-05T11:00:00+00:00")
    assert status == 201 and set(body) == {"backfill_id"}
    backfill_id = body["backfill_id"]

    started = api.get(f"/batch_exports/{export['id']}/backfills/{backfill_id}/").json
    assert started["status"] == "Running"
    assert started["progress"] == {"total_runs": 3, "finished_runs": 0, "progress": 0.0}

    advance(api, 180)  # the first interval's run completed
    halfway = api.get(f"/batch_exports/{export['id']}/backfills/{backfill_id}/").json
    assert halfway["progress"] == {"total_runs": 3, "finished_runs": 1, "progress": 0.3}

    advance(api, 600)
    done = api.get(f"/batch_exports/{export['id']}/backfills/{backfill_id}/").json
    assert done["status"] == "Completed"
    assert done["progress"] == {"total_runs": 3, "finished_runs": 3, "progress": 1.0}
    assert done["finished_at"] == "2026-01-05T12:09:00Z"
    runs = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"ordering": "data_interval_start"}).json
    assert [(r["data_interval_start"], r["backfill"]) for r in runs["results"]] == [
        ("2026-01-05T08:00:00Z", backfill_id),
        ("2026-01-05T09:00:00Z", backfill_id),
        ("2026-01-05T10:00:00Z", backfill_id),
    ]
    assert done["total_records_count"] == sum(r["records_completed"] for r in runs["results"])


def test_a_backfill_reads_in_drfs_field_order(api: Api) -> None:
    """``fields = "__all__"``: the key, the declared ``progress``, the model's fields, its foreign keys."""
    export = api.create_export(interval="hour")
    _, body = backfill(api, export["id"], start_at="2026-01-05T08:00:00+00:00", end_at="2026-01-05T09:00:00+00:00")
    shown = api.get(f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/").json
    assert list(shown) == [
        "id", "progress", "start_at", "end_at", "status", "created_at", "finished_at", "last_updated_at",
        "total_records_count", "adjusted_start_at", "team", "batch_export",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("interval", "value", "detail"),
    [
        ("hour", 5, "Input 5 is not a valid ISO formatted datetime."),
        ("hour", ["x"], "Input ['x'] is not a valid ISO formatted datetime."),
        ("day", 5, "Input '5' is not a valid ISO formatted date."),
    ],
)
def test_a_date_that_is_not_text_gets_the_date_checks_own_message(
    api: Api, interval: str, value: object, detail: str
) -> None:
    """PostHog's view reads the dates raw and its check catches the ``TypeError``: no type error of a serializer."""
    export = api.create_export(interval=interval)
    status, body = backfill(api, export["id"], start_at=value, end_at="2026-01-01")
    assert (status, body) == (400, error("invalid_input", detail))


def test_the_export_must_belong_to_the_project(api: Api, server: MockServer) -> None:
    export = api.create_export()
    other = Api(server, server.store.create_tenant())
    assert backfill(other, export["id"], start_at="2026-01-01T00:00:00+00:00", end_at="2026-01-02T00:00:00+00:00") == (
        404,
        error("not_found", "BatchExport not found.", type="invalid_request"),
    )


def test_a_deleted_exports_backfill_is_accepted_then_fails_without_runs(api: Api) -> None:
    """The delete removed the export's schedule: PostHog's workflow fails when it looks the schedule up."""
    export = api.create_export()
    advance(api, HOUR)  # one scheduled run, then the delete
    api.delete(f"/batch_exports/{export['id']}/")
    status, body = backfill(api, export["id"], start_at="2026-01-05T08:00:00+00:00", end_at="2026-01-05T09:00:00+00:00")
    assert status == 201
    advance(api, 600)
    made = api.get(f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/").json
    assert (made["status"], made["finished_at"], made["total_records_count"]) == (
        "Failed",
        "2026-01-05T13:00:00Z",
        None,
    )
    (scheduled,) = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    retried = api.post(f"/batch_exports/{export['id']}/runs/{scheduled['id']}/retry/")
    assert retried.status_code == 201  # accepted, as PostHog starts the workflow
    advance(api, 600)
    assert len(api.get(f"/batch_exports/{export['id']}/runs/").json["results"]) == 1
    statuses = [b["status"] for b in api.get(f"/batch_exports/{export['id']}/backfills/").json["results"]]
    assert statuses == ["Failed", "Failed"]


def test_a_last_range_shorter_than_the_interval_gets_no_run(api: Api) -> None:
    """PostHog's ``backfill_range`` yields whole intervals only, stepping from ``start_at`` as given."""
    export = api.create_export(interval="hour")
    _, body = backfill(api, export["id"], start_at="2026-01-05T00:30:00+00:00", end_at="2026-01-05T02:15:00+00:00")
    _, short = backfill(api, export["id"], start_at="2026-01-05T04:00:00+00:00", end_at="2026-01-05T04:20:00+00:00")
    advance(api, 900)
    runs = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"ordering": "data_interval_start"}).json
    assert [(r["data_interval_start"], r["data_interval_end"]) for r in runs["results"]] == [
        ("2026-01-05T00:30:00Z", "2026-01-05T01:30:00Z")
    ]
    done = api.get(f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/").json
    empty = api.get(f"/batch_exports/{export['id']}/backfills/{short['backfill_id']}/").json
    assert (done["status"], empty["status"], empty["total_records_count"]) == ("Completed", "Completed", None)


def test_a_backfill_without_an_end_catches_up_with_now_then_unpauses_the_export(api: Api) -> None:
    """``backfill_schedule`` stops before the first interval ending at or after now, and unpauses the export."""
    export = api.create_export(interval="hour")
    api.post(f"/batch_exports/{export['id']}/pause/")
    status, body = backfill(api, export["id"], start_at="2026-01-05T09:00:00+00:00")  # now: 12:00
    assert status == 201
    advance(api, 1800)
    runs = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"ordering": "data_interval_start"}).json
    assert [r["data_interval_end"] for r in runs["results"]] == [
        "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z",
    ]  # fmt: skip
    made = api.get(f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/").json
    assert (made["status"], made["finished_at"]) == ("Completed", "2026-01-05T12:09:00Z")
    shown = api.get(f"/batch_exports/{export['id']}/").json
    assert (shown["paused"], shown["last_updated_at"]) == (False, "2026-01-05T12:09:00Z")
    advance(api, HOUR)  # the schedule runs again: the 12:00-13:00 interval
    runs = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"ordering": "-data_interval_start"}).json
    assert (runs["results"][0]["data_interval_end"], runs["results"][0]["backfill"]) == ("2026-01-05T13:00:00Z", None)


def test_an_earliest_backfill_without_an_end_runs_to_now_rounded_down_to_the_interval(server: MockServer) -> None:
    flagged = Api(server, server.store.create_tenant(feature_flags=["batch-export-earliest-backfill"]))
    export = flagged.create_export(interval="hour")
    advance(flagged, 25 * 60)  # now 12:25; the scheduled 12:00 run as well
    status, _ = backfill(flagged, export["id"])
    assert status == 201
    advance(flagged, 600)
    runs = flagged.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    (earliest,) = [r for r in runs if r["backfill"] is not None]
    assert (earliest["data_interval_start"], earliest["data_interval_end"]) == (None, "2026-01-05T12:00:00Z")


def test_an_earliest_backfill_made_on_an_interval_boundary_still_runs(server: MockServer) -> None:
    """Now is 12:00:00 exactly: the one run ends there, as PostHog's rounding gives it."""
    flagged = Api(server, server.store.create_tenant(feature_flags=["batch-export-earliest-backfill"]))
    export = flagged.create_export(interval="hour")
    assert backfill(flagged, export["id"])[0] == 201
    advance(flagged, 600)
    (run,) = [r for r in flagged.get(f"/batch_exports/{export['id']}/runs/").json["results"] if r["backfill"]]
    assert (run["data_interval_start"], run["data_interval_end"]) == (None, "2026-01-05T12:00:00Z")


def test_a_backfill_without_an_end_starting_after_now_is_caught_up_at_once(api: Api, server: MockServer) -> None:
    """Even at year 9999, where the next interval's end is past what a date can hold."""
    export = api.create_export(interval="hour")
    for start in ("2026-01-06T00:00:00+00:00", "9999-12-31T23:00:00+00:00"):
        status, body = backfill(api, export["id"], start_at=start)
        assert status == 201
        advance(api, 60)
        made = api.get(f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/").json
        assert (made["status"], made["progress"]["finished_runs"]) == ("Completed", 0)
    assert api.get(f"/batch_exports/{export['id']}/backfills/").status_code == 200
    assert api.get(f"/batch_exports/{export['id']}/runs/").json["results"] == []
    assert server.errors == []


def test_failed_and_cancelled_runs_do_not_stop_a_backfill_and_failed_ones_count_as_finished(
    api: Api, server: MockServer
) -> None:
    from mockserver import Outcome

    export = api.create_export(interval="hour")
    server.plan_outcomes(export["id"], [Outcome("Failed", "boom")])
    _, body = backfill(api, export["id"], start_at="2026-01-05T06:00:00+00:00", end_at="2026-01-05T10:00:00+00:00")
    url = f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/"
    advance(api, 181)  # the first run failed; the second has started
    assert api.get(url).json["progress"] == {"total_runs": 4, "finished_runs": 1, "progress": 0.2}
    second = [r for r in api.get(f"/batch_exports/{export['id']}/runs/").json["results"] if r["status"] == "Starting"]
    api.post(f"/batch_exports/{export['id']}/runs/{second[0]['id']}/cancel/")
    advance(api, 600)
    runs = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"ordering": "data_interval_start"}).json
    assert [r["status"] for r in runs["results"]] == ["Failed", "Cancelled", "Completed", "Completed"]
    done = api.get(url).json
    assert (done["status"], done["progress"]["finished_runs"]) == ("Completed", 4)
    assert done["total_records_count"] == sum(r["records_completed"] for r in runs["results"][2:])


def test_backfilling_from_the_beginning_of_time_needs_a_flag(api: Api, server: MockServer) -> None:
    export = api.create_export()
    assert backfill(api, export["id"], end_at="2026-01-05T09:00:00+00:00") == (
        400,
        error("invalid_input", "Backfilling from the beginning of time is not enabled for this team."),
    )
    flagged = Api(server, server.store.create_tenant(feature_flags=["batch-export-earliest-backfill"]))
    export = flagged.create_export()
    status, body = backfill(flagged, export["id"], end_at="2026-01-05T09:00:00+00:00")
    assert status == 201
    made = flagged.get(f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/").json
    # One run from the beginning of time; PostHog reports no progress without a start.
    assert (made["start_at"], made["progress"]) == (None, None)


def test_an_earliest_backfill_sorts_as_postgres_sorts_null(server: MockServer) -> None:
    """Last by ``start_at`` ascending, first descending; ``?ordering=`` terms as DRF reads them."""
    flagged = Api(server, server.store.create_tenant(feature_flags=["batch-export-earliest-backfill"]))
    export = flagged.create_export()
    _, early = backfill(flagged, export["id"], end_at="2026-01-05T09:00:00+00:00")
    _, dated = backfill(flagged, export["id"], start_at="2026-01-05T07:00:00+00:00", end_at="2026-01-05T08:00:00+00:00")
    url = f"/batch_exports/{export['id']}/backfills/"

    def order(ordering: str) -> list[str]:
        return [b["id"] for b in flagged.get(url, query_string={"ordering": ordering}).json["results"]]

    assert order("start_at") == [dated["backfill_id"], early["backfill_id"]]
    assert order("-start_at") == [early["backfill_id"], dated["backfill_id"]]
    # Unknown terms are dropped, the valid ones kept (a whole value of unknowns: the default).
    assert order("nope, -start_at") == order("-start_at")
    assert order("nope") == order("-created_at")


def test_too_many_concurrent_backfills_is_a_429_typed_server_error(api: Api, server: MockServer) -> None:
    server.store.limits.concurrent_backfills = 1
    export = api.create_export()
    window = {"start_at": "2026-01-05T08:00:00+00:00", "end_at": "2026-01-05T09:00:00+00:00"}
    assert backfill(api, export["id"], **window)[0] == 201
    assert backfill(api, export["id"], **window) == (
        429,
        error(
            "too_many_concurrent_backfills",
            "This team already has 1 batch export backfills running. "
            "Wait for some to finish or cancel them before creating more.",
            type="server_error",
        ),
    )


@pytest.mark.parametrize(
    ("start_at", "detail"),
    [
        (
            "2026-01-01T00:00:00+00:00",
            "Input '2026-01-01T00:00:00+00:00' is not a valid ISO formatted date. Daily or weekly batch export "
            "backfills expect only the date component, but a time was included.",
        ),
        ("yesterday", "Input 'yesterday' is not a valid ISO formatted date."),
    ],
)
def test_daily_exports_take_bare_dates(api: Api, start_at: str, detail: str) -> None:
    export = api.create_export(interval="day")
    assert backfill(api, export["id"], start_at=start_at, end_at="2026-01-03") == (400, error("invalid_input", detail))


def test_weekly_dates_must_fall_on_the_exports_day(api: Api) -> None:
    export = api.create_export(interval="week", offset_day=1)
    assert backfill(api, export["id"], start_at="2025-12-21", end_at="2025-12-29") == (
        400,
        error(
            "invalid_input",
            "Input 2025-12-21 is not on the correct day of the week for this batch export. "
            "2025-12-21 is a Sunday but this batch export is configured to run weekly on Monday.",
        ),
    )
    assert backfill(api, export["id"], start_at="2025-12-22", end_at="2025-12-29")[0] == 201
    # The message prints the date as it was sent.
    assert backfill(api, export["id"], start_at="20251221", end_at="2025-12-29")[1]["detail"].startswith(
        "Input 20251221 is not on the correct day of the week for this batch export. 20251221 is a Sunday"
    )


def test_a_daily_date_means_the_offset_hour_in_the_exports_timezone(api: Api) -> None:
    export = api.create_export(interval="day", timezone="Europe/Berlin", offset_hour=6)
    _, body = backfill(api, export["id"], start_at="2026-01-01", end_at="2026-01-03")
    made = api.get(f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/").json
    assert (made["start_at"], made["end_at"]) == ("2026-01-01T05:00:00Z", "2026-01-03T05:00:00Z")


def test_a_moment_before_year_one_in_utc_is_refused(api: Api, server: MockServer) -> None:
    """PostHog accepts it and then fails wherever it reads it back; the fake never stores what it cannot render."""
    export = api.create_export()
    assert backfill(api, export["id"], start_at="0001-01-01T00:00:00+14:00", end_at="0001-01-01T05:00:00+14:00") == (
        400,
        error("invalid_input", "Input 0001-01-01T00:00:00+14:00 is not a valid ISO formatted datetime."),
    )
    assert (
        backfill(api, export["id"], start_at="0001-01-01T00:00:00+00:00", end_at="0001-01-01T02:00:00+00:00")[0] == 201
    )
    advance(api, HOUR)
    assert api.get("/batch_exports/").status_code == 200
    assert server.errors == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"start_at": "2026-01-05T08:00:00", "end_at": "2026-01-05T09:00:00+00:00"},
            "Input 2026-01-05T08:00:00 is naive.",
        ),
        (
            {"start_at": "soon", "end_at": "2026-01-05T09:00:00+00:00"},
            "Input soon is not a valid ISO formatted datetime.",
        ),
        (
            {"start_at": "2026-01-05T09:00:00+00:00", "end_at": "2026-01-05T09:00:00+00:00"},
            "The initial backfill datetime 'start_at' must be before 'end_at'",
        ),
        (
            {"start_at": "2026-01-05T09:00:00+00:00", "end_at": "2026-01-06T09:00:00+00:00"},
            "The provided 'end_at' (2026-01-06T09:00:00+00:00) is in the future",
        ),
    ],
)
def test_hourly_exports_take_aware_datetimes_in_the_past(api: Api, body: dict[str, str], detail: str) -> None:
    export = api.create_export()
    assert backfill(api, export["id"], **body) == (400, error("invalid_input", detail))


def test_an_open_end_is_only_for_http_and_noop_destinations(api: Api) -> None:
    noop = api.create_export()
    status, _ = backfill(api, noop["id"], start_at="2026-01-05T08:00:00+00:00")
    assert status == 201
    databricks = api.create_export(
        destination={
            "type": "Databricks",
            "integration": api.integration("databricks"),
            "config": {"http_path": "/sql", "catalog": "c", "schema": "s", "table_name": "t"},
        }
    )
    assert backfill(api, databricks["id"], start_at="2026-01-05T08:00:00+00:00") == (
        400,
        error("invalid_input", "Backfilling a BatchExport with no end date is not allowed"),
    )


def test_cancelling_a_backfill_cancels_its_runs(api: Api) -> None:
    export = api.create_export()
    _, body = backfill(api, export["id"], start_at="2026-01-05T00:00:00+00:00", end_at="2026-01-05T06:00:00+00:00")
    backfill_id = body["backfill_id"]
    advance(api, 60)
    cancelled = api.post(f"/batch_exports/{export['id']}/backfills/{backfill_id}/cancel/")
    assert (cancelled.status_code, cancelled.json) == (200, {"cancelled": True})
    made = api.get(f"/batch_exports/{export['id']}/backfills/{backfill_id}/").json
    assert (made["status"], made["progress"]) == ("Cancelled", None)

    def backfill_runs() -> list[str]:
        runs = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
        return [r["status"] for r in runs if r["backfill"] == backfill_id]

    assert backfill_runs() == ["Cancelled"]
    advance(api, HOUR)  # no further interval is started
    assert backfill_runs() == ["Cancelled"]
    again = api.post(f"/batch_exports/{export['id']}/backfills/{backfill_id}/cancel/")
    assert (again.status_code, again.json) == (
        400,
        error("invalid_input", "Cannot cancel a backfill that is in 'Cancelled' status"),
    )


def test_backfills_list_in_cursor_pages_of_50_newest_first(api: Api, server: MockServer) -> None:
    server.store.limits.concurrent_backfills = 100
    export = api.create_export()
    ids = []
    for hour in range(60):
        status, body = backfill(
            api, export["id"], start_at=f"2026-01-0{1 + hour // 24}T{hour % 24:02d}:00:00+00:00",
            end_at=f"2026-01-0{1 + (hour + 1) // 24}T{(hour + 1) % 24:02d}:00:00+00:00",
        )  # fmt: skip
        assert status == 201, body
        ids.append(body["backfill_id"])
        advance(api, 1)
    first = api.get(f"/batch_exports/{export['id']}/backfills/").json
    assert len(first["results"]) == 50 and first["next"] and first["previous"] is None
    second = api.get(first["next"].removeprefix("http://localhost")).json
    assert [b["id"] for b in first["results"] + second["results"]] == ids[::-1]
    by_start = api.get(f"/batch_exports/{export['id']}/backfills/", query_string={"ordering": "start_at"}).json
    starts = [b["start_at"] for b in by_start["results"]]
    assert starts == sorted(starts)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_backfills_cannot_be_changed_or_deleted(api: Api, method: str) -> None:
    export = api.create_export()
    _, body = backfill(api, export["id"], start_at="2026-01-05T08:00:00+00:00", end_at="2026-01-05T09:00:00+00:00")
    response = api.request(method, f"/batch_exports/{export['id']}/backfills/{body['backfill_id']}/")
    assert (response.status_code, response.json) == (
        405,
        error("method_not_allowed", f'Method "{method}" not allowed.', type="invalid_request"),
    )
