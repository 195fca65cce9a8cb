"""Runs appear on the virtual clock exactly as PostHog's schedules would create them.

Nothing sleeps: each test advances the fake's clock (``POST /_mock/clock/advance/``) and
reads what the workers would have done by then. The default clock starts frozen at
2026-01-05T12:00:00Z (a Monday).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from support import Api

from mockserver import MockServer

HOUR = 3600
DAY = 24 * HOUR


def advance(api: Api, seconds: float) -> str:
    response = api.post("/_mock/clock/advance/", json={"seconds": seconds})
    assert response.status_code == 200
    now: str = response.json["now"]
    return now


def runs_of(api: Api, export_id: str, **params: str) -> list[dict[str, Any]]:
    response = api.get(f"/batch_exports/{export_id}/runs/", query_string=params)
    assert response.status_code == 200, response.json
    results: list[dict[str, Any]] = response.json["results"]
    return results


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_hourly_export_gets_one_run_per_closed_hour(api: Api) -> None:
    export = api.create_export(interval="hour")
    advance(api, 3 * HOUR)
    runs = runs_of(api, export["id"], ordering="data_interval_start")
    assert [(r["data_interval_start"], r["data_interval_end"]) for r in runs] == [
        ("2026-01-05T12:00:00Z", "2026-01-05T13:00:00Z"),
        ("2026-01-05T13:00:00Z", "2026-01-05T14:00:00Z"),
        ("2026-01-05T14:00:00Z", "2026-01-05T15:00:00Z"),
    ]
    # The last one was created at 15:00 exactly, which is now: it has not started yet.
    assert [r["status"] for r in runs] == ["Completed", "Completed", "Starting"]
    assert runs[-1]["created_at"] == "2026-01-05T15:00:00Z"


def test_a_run_starts_after_30_seconds_and_completes_150_seconds_later(api: Api) -> None:
    export = api.create_export(interval="hour")
    advance(api, HOUR)
    (run,) = runs_of(api, export["id"])
    assert run["status"] == "Starting"
    advance(api, 30)
    assert runs_of(api, export["id"])[0]["status"] == "Running"
    advance(api, 150)
    (done,) = runs_of(api, export["id"])
    assert done["status"] == "Completed"
    assert done["finished_at"] == "2026-01-05T13:03:00Z"
    assert done["records_completed"] > 0 and done["bytes_exported"] > done["records_completed"]
    assert done["latest_error"] is None and done["records_failed"] == 0


def test_a_day_of_hourly_runs_with_one_planned_failure_and_its_retry(api: Api, server: MockServer) -> None:
    export = api.create_export(interval="hour")
    planned = api.post(
        "/_mock/outcomes/",
        json={"batch_export_id": export["id"], "outcomes": [{"status": "Completed"}] * 4
              + [{"status": "FailedRetryable", "latest_error": "S3 said 503"}]},
    )  # fmt: skip
    assert planned.status_code == 201, planned.json
    advance(api, DAY)
    runs = runs_of(api, export["id"], ordering="data_interval_start")
    assert len(runs) == 24
    assert Counter(r["status"] for r in runs) == {"Completed": 22, "FailedRetryable": 1, "Starting": 1}
    failed = runs[4]
    assert (failed["status"], failed["latest_error"]) == ("FailedRetryable", "S3 said 503")

    retried = api.post(f"/batch_exports/{export['id']}/runs/{failed['id']}/retry/")
    assert retried.status_code == 201
    assert retried.json == {
        "backfill_id": f"{export['id']}-Backfill-2026-01-05T16:00:00+00:00-2026-01-05T17:00:00+00:00"
    }
    advance(api, 10 * 60)
    (backfill,) = api.get(f"/batch_exports/{export['id']}/backfills/").json["results"]
    assert (backfill["status"], backfill["start_at"], backfill["end_at"]) == (
        "Completed",
        "2026-01-05T16:00:00Z",
        "2026-01-05T17:00:00Z",
    )
    again = [r for r in runs_of(api, export["id"]) if r["backfill"] == backfill["id"]]
    assert [(r["status"], r["data_interval_start"]) for r in again] == [("Completed", "2026-01-05T16:00:00Z")]
    # The failed run itself is left as it was.
    assert api.get(f"/batch_exports/{export['id']}/runs/{failed['id']}/").json["status"] == "FailedRetryable"


def test_a_weekly_export_keeps_its_local_hour_across_a_dst_change(api: Api) -> None:
    # Monday 09:00 in Berlin: 08:00 UTC in winter, 07:00 UTC from 29 March 2026.
    api.post("/_mock/clock/set/", json={"now": "2026-03-10T00:00:00Z"})
    export = api.create_export(interval="week", timezone="Europe/Berlin", offset_day=1, offset_hour=9)
    assert (export["offset_day"], export["offset_hour"]) == (1, 9)
    advance(api, 28 * DAY)
    runs = runs_of(api, export["id"], ordering="data_interval_start", start="2026-03-01", end="2026-04-30")
    ends = [ts(r["data_interval_end"]) for r in runs]
    assert [e.isoformat() for e in ends] == [
        "2026-03-16T08:00:00+00:00",
        "2026-03-23T08:00:00+00:00",
        "2026-03-30T07:00:00+00:00",
        "2026-04-06T07:00:00+00:00",
    ]
    berlin = ZoneInfo("Europe/Berlin")
    assert {e.astimezone(berlin).strftime("%A %H:%M") for e in ends} == {"Monday 09:00"}
    # PostHog subtracts a fixed week, so the run across the change spans 167 hours of wall time.
    spans = [ts(r["data_interval_end"]) - ts(r["data_interval_start"]) for r in runs]
    assert set(spans) == {timedelta(weeks=1)}


def test_a_daily_export_fires_at_its_offset_hour_in_its_timezone(api: Api) -> None:
    export = api.create_export(interval="day", timezone="US/Pacific", offset_hour=2)
    advance(api, 2 * DAY)
    ends = [r["data_interval_end"] for r in runs_of(api, export["id"], ordering="data_interval_start")]
    assert ends == ["2026-01-06T10:00:00Z", "2026-01-07T10:00:00Z"]


def test_sub_hour_intervals_fire_on_utc_boundaries(server: MockServer) -> None:
    tenant = server.store.create_tenant(feature_flags=["high-frequency-batch-exports"])
    api = Api(server, tenant)
    export = api.create_export(interval="every 15 minutes")
    advance(api, HOUR)
    assert len(runs_of(api, export["id"])) == 4


def test_start_at_and_end_at_bound_the_schedule(api: Api) -> None:
    export = api.create_export(interval="hour", start_at="2026-01-05T14:30:00Z", end_at="2026-01-05T17:00:00Z")
    advance(api, 8 * HOUR)
    ends = [r["data_interval_end"] for r in runs_of(api, export["id"], ordering="data_interval_start")]
    assert ends == ["2026-01-05T15:00:00Z", "2026-01-05T16:00:00Z", "2026-01-05T17:00:00Z"]


def test_no_runs_while_paused_and_unpause_can_backfill_the_paused_span(api: Api) -> None:
    export = api.create_export(interval="hour")
    advance(api, HOUR)  # 13:00: one scheduled run
    api.post(f"/batch_exports/{export['id']}/pause/")
    advance(api, 3 * HOUR)  # 16:00: nothing while paused
    assert len(runs_of(api, export["id"])) == 1

    assert api.post(f"/batch_exports/{export['id']}/unpause/", json={"backfill": True}).json == {"paused": False}
    (backfill,) = api.get(f"/batch_exports/{export['id']}/backfills/").json["results"]
    assert (backfill["start_at"], backfill["end_at"]) == ("2026-01-05T13:00:00Z", "2026-01-05T16:00:00Z")
    advance(api, HOUR)
    backfilled = [r for r in runs_of(api, export["id"]) if r["backfill"] == backfill["id"]]
    assert sorted(r["data_interval_start"] for r in backfilled) == [
        "2026-01-05T13:00:00Z",
        "2026-01-05T14:00:00Z",
        "2026-01-05T15:00:00Z",
    ]
    # ...and the schedule resumed: the 17:00 run exists.
    assert any(
        r["data_interval_end"] == "2026-01-05T17:00:00Z" and r["backfill"] is None for r in runs_of(api, export["id"])
    )


def test_unpause_without_backfill_skips_the_paused_span(api: Api) -> None:
    export = api.create_export(interval="hour", paused=True)
    advance(api, 2 * HOUR)
    api.post(f"/batch_exports/{export['id']}/unpause/")
    advance(api, HOUR)
    assert [r["data_interval_end"] for r in runs_of(api, export["id"])] == ["2026-01-05T15:00:00Z"]
    assert api.get(f"/batch_exports/{export['id']}/backfills/").json["results"] == []


def test_deleting_an_export_stops_its_schedule_and_cancels_its_running_runs(api: Api) -> None:
    export = api.create_export(interval="hour")
    advance(api, HOUR + 60)  # the 13:00 run is Running
    assert api.delete(f"/batch_exports/{export['id']}/").status_code == 204
    advance(api, 3 * HOUR)
    # Runs stay readable after a soft delete.
    assert [r["status"] for r in runs_of(api, export["id"])] == ["Cancelled"]


def test_a_retired_tenant_gets_no_more_runs_while_others_keep_theirs(api: Api, server: MockServer) -> None:
    retired = api.create_export(interval="hour")
    backfill = api.post(
        f"/batch_exports/{retired['id']}/backfills/",
        json={"start_at": "2026-01-01T00:00:00Z", "end_at": "2026-01-05T00:00:00Z"},
    )
    assert backfill.status_code == 201, backfill.json
    other = Api(server, server.store.create_tenant())
    live = other.create_export(interval="hour")
    advance(api, 60)  # the backfill's first run is Running; the schedule's first fire is at 13:00
    before = runs_of(api, retired["id"])
    assert [r["status"] for r in before] == ["Running"]

    server.retire_tenant(api.tenant.organization_id)
    advance(api, DAY)

    # The run under way ended; no schedule fired and the backfill started no next interval.
    after = runs_of(api, retired["id"])
    assert [(r["id"], r["status"]) for r in after] == [(before[0]["id"], "Completed")]
    # The other tenant's export went on: a run for every hour closed by 12:01 the next day.
    assert len(runs_of(other, live["id"])) == 24
    # Retiring is idempotent, and an unknown organization is a no-op.
    server.retire_tenant(api.tenant.organization_id)
    server.retire_tenant("00000000-0000-0000-0000-000000000000")


def test_latest_runs_are_the_ten_newest(api: Api) -> None:
    export = api.create_export(interval="hour")
    advance(api, 12 * HOUR)
    latest = api.get(f"/batch_exports/{export['id']}/").json["latest_runs"]
    assert len(latest) == 10
    assert latest == runs_of(api, export["id"])[:10]


def test_changing_the_interval_replans_the_schedule(api: Api) -> None:
    export = api.create_export(interval="hour")
    advance(api, 30 * 60)
    api.patch(f"/batch_exports/{export['id']}/", json={"interval": "day", "offset_hour": 0})
    advance(api, DAY)
    assert [r["data_interval_end"] for r in runs_of(api, export["id"])] == ["2026-01-06T00:00:00Z"]


def test_an_accelerated_clock_creates_runs_without_any_call_to_advance() -> None:
    from mockserver import Clock, Store

    wall = [0.0]  # seconds on the (fake) wall clock
    clock = Clock(datetime(2026, 1, 5, 12, 59, tzinfo=UTC), speed=60.0, monotonic=lambda: wall[0])
    server = MockServer(Store(clock=clock), strict=True)
    api = Api(server, server.store.create_tenant())
    export = api.create_export(interval="hour")
    wall[0] = 60.0
    # One wall minute at speed 60 is one virtual hour: the 13:00 run now exists.
    assert [r["data_interval_end"] for r in runs_of(api, export["id"])] == ["2026-01-05T13:00:00Z"]
