"""A clock jump of months or years moves in short steps that other requests can slip between.

The scheduler does the work due by each stop (at most ``ADVANCE_BATCH`` events) under the
store's lock, moves the clock to the last event it processed, and lets the lock go before
the next step; ``POST /_mock/clock/advance/`` runs the jump after its own request has
released the lock. The end state is exactly that of one jump.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from support import Api

from mockserver import MockServer
from mockserver.domain import engine as engine_module
from mockserver.domain.dates import parse_datetime

DAY = 86400


def fast_api(server: MockServer) -> Api:
    return Api(server, server.store.create_tenant(feature_flags=["high-frequency-batch-exports"]))


def test_a_jump_in_steps_ends_where_one_jump_would(monkeypatch: pytest.MonkeyPatch) -> None:
    states = []
    for batch in (10**9, 7):  # one step, then many short ones
        monkeypatch.setattr(engine_module, "ADVANCE_BATCH", batch)
        server = MockServer(seed=5)
        api = fast_api(server)
        export = api.create_export(interval="every 5 minutes")
        api.post(f"/batch_exports/{export['id']}/backfills/", json={"start_at": "2025-12-01T00:00:00Z",
                                                                    "end_at": "2025-12-02T00:00:00Z"})  # fmt: skip
        assert api.post("/_mock/clock/advance/", json={"seconds": 2 * DAY + 0.5}).status_code == 200
        states.append(server.store.snapshot())
    assert states[0] == states[1]
    assert len(states[0]["organizations"][0]["projects"][0]["runs"]) > 500


def test_other_requests_get_in_between_the_steps_and_see_the_clock_where_the_work_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine_module, "ADVANCE_BATCH", 50)
    server = MockServer(strict=True)
    api = fast_api(server)
    export = api.create_export(interval="every 5 minutes")
    start = server.store.clock.now()
    seen: list[tuple[datetime, int, str]] = []

    def meanwhile() -> None:
        # Runs between two steps, with the lock free, as another client's request would.
        now = parse_datetime(api.get("/_mock/clock/").json["now"])
        assert now is not None
        runs = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"after": start.isoformat()}).json
        newest = runs["results"][0]["data_interval_end"] if runs["results"] else ""
        seen.append((now, len(runs["results"]), newest))

    server.backend.engine.between_steps.append(meanwhile)
    response = api.post("/_mock/clock/advance/", json={"seconds": 3 * DAY})

    assert response.status_code == 200
    assert response.json["now"] == "2026-01-08T12:00:00Z"
    assert len(seen) > 10  # 864 fires, each with a start and a finish: many steps
    times = [now for now, _, _ in seen]
    end = parse_datetime(response.json["now"])
    assert end is not None
    assert times == sorted(times) and start < times[0] and times[-1] < end
    for now, _count, newest in seen:
        # The newest run visible is the one the schedule fired last by that time.
        fired = now.timestamp() // 300 * 300
        newest_at = parse_datetime(newest)
        assert newest_at is not None and newest_at.timestamp() == fired


def test_a_jump_past_the_year_9999_is_refused_and_changes_nothing() -> None:
    server = MockServer()
    api = fast_api(server)
    api.create_export(interval="every 5 minutes")
    before = server.store.clock.now()
    response = api.post("/_mock/clock/advance/", json={"seconds": 9999 * 366 * DAY})
    assert response.status_code == 400
    assert server.store.clock.now() == before and not server.store.runs


def test_a_running_clock_idle_for_days_catches_up_in_steps_before_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mockserver.clock import Clock

    monkeypatch.setattr(engine_module, "ADVANCE_BATCH", 50)
    wall = [0.0]
    server = MockServer(clock=Clock(speed=3600.0, monotonic=lambda: wall[0]))  # an hour a second
    api = fast_api(server)
    export = api.create_export(interval="every 5 minutes")
    steps: list[int] = []
    server.backend.engine.between_steps.append(lambda: steps.append(len(server.store.runs)))

    wall[0] += 72.0  # three virtual days pass while nobody asks
    runs = api.get(f"/batch_exports/{export['id']}/runs/", query_string={"after": "-4d"}).json["results"]

    assert len(steps) > 10 and steps == sorted(steps)  # the work went in steps, the lock let go between
    assert len(server.store.runs) == 3 * 288 and len(runs) == 100


def test_between_two_steps_a_request_queued_for_the_lock_goes_first() -> None:
    import threading

    from mockserver.domain.locking import StoreLock

    lock = StoreLock()
    order: list[str] = []
    lock.acquire()  # a step of the long job

    def request() -> None:
        lock.acquire()
        order.append("request")
        lock.release()

    queued = threading.Thread(target=request)
    queued.start()
    while not lock.waiting:  # the request is now blocked on the lock
        threading.Event().wait(0.001)
    lock.release()
    lock.yield_to_waiters(patience=5)
    with lock:  # the next step
        order.append("next step")
    queued.join()
    assert order == ["request", "next step"]
