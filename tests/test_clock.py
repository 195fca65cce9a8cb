"""The virtual clock: frozen by default, real or accelerated on demand, never backwards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support import Api, error

from mockserver import Clock
from mockserver.clock import DEFAULT_EPOCH, ClockError


def test_a_frozen_clock_moves_only_when_advanced() -> None:
    clock = Clock.frozen()
    assert clock.now() == DEFAULT_EPOCH == clock.now()
    assert clock.advance(90).isoformat() == "2026-01-05T12:01:30+00:00"
    assert clock.mode == "frozen"


def test_an_accelerated_clock_runs_speed_times_the_wall_clock() -> None:
    wall = [100.0]
    clock = Clock(DEFAULT_EPOCH, speed=60, monotonic=lambda: wall[0])
    wall[0] += 60
    assert clock.now() == datetime(2026, 1, 5, 13, tzinfo=UTC)
    assert clock.mode == "accelerated"
    clock.advance(3600)  # advancing still works on a running clock
    assert clock.now() == datetime(2026, 1, 5, 14, tzinfo=UTC)


def test_the_clock_never_moves_backwards() -> None:
    clock = Clock.frozen()
    with pytest.raises(ClockError):
        clock.advance(-1)
    with pytest.raises(ClockError):
        clock.set(datetime(2025, 1, 1, tzinfo=UTC))


def test_the_clock_over_http(api: Api) -> None:
    assert api.get("/_mock/clock/").json == {"now": "2026-01-05T12:00:00Z"}
    assert api.post("/_mock/clock/advance/", json={"seconds": 1.5}).json == {"now": "2026-01-05T12:00:01.500000Z"}
    assert api.post("/_mock/clock/set/", json={"now": "2026-02-01T00:00:00Z"}).json == {"now": "2026-02-01T00:00:00Z"}


def test_setting_the_clock_backwards_is_a_400(api: Api) -> None:
    response = api.post("/_mock/clock/set/", json={"now": "2020-01-01T00:00:00Z"})
    assert (response.status_code, response.json) == (
        400,
        error("invalid_input", "The clock never moves backwards: it is already 2026-01-05T12:00:00Z.", "now"),
    )


def test_setting_the_clock_more_than_a_century_ahead_is_a_400(api: Api) -> None:
    """Every export makes its runs on the way, so a jump's work grows with its length: a
    century is the most the control plane moves at once, as ``advance`` is capped too."""
    response = api.post("/_mock/clock/set/", json={"now": "9999-12-31T23:59:59Z"})
    assert (response.status_code, response.json) == (
        400,
        error(
            "max_value",
            "The clock moves at most a century at a time: set it to 2125-12-12T12:00:00Z at the latest.",
            "now",
        ),
    )
    assert api.get("/_mock/clock/").json == {"now": "2026-01-05T12:00:00Z"}
    assert api.post("/_mock/clock/set/", json={"now": "2125-12-12T12:00:00Z"}).status_code == 200


def test_the_century_is_the_advance_bound_of_the_spec() -> None:
    from mockserver.clock import MAX_JUMP
    from mockserver.http.spec import load_spec

    schema = load_spec().document["components"]["schemas"]["ClockAdvanceRequest"]
    assert schema["properties"]["seconds"]["maximum"] == MAX_JUMP.total_seconds()


def test_advancing_by_a_negative_amount_is_a_400(api: Api) -> None:
    response = api.post("/_mock/clock/advance/", json={"seconds": -5})
    assert (response.status_code, response.json["code"], response.json["attr"]) == (400, "min_value", "seconds")


def test_timestamps_come_from_the_virtual_clock(api: Api) -> None:
    api.post("/_mock/clock/set/", json={"now": "2030-06-01T08:30:00Z"})
    assert api.create_export()["created_at"] == "2030-06-01T08:30:00Z"
