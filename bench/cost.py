"""Does a request cost the work it asks for, whatever the history behind it?

``python bench/cost.py SECTION`` prints one JSON line (``run.py`` runs it in a fresh
interpreter on the server core, section ``cost``). Sections, each in process through
werkzeug's test ``Client`` and each bounded in count and time:

* ``history``: GET runs (default window, first cursor page) and GET logs (default limit)
  of an hourly export with 100 runs against one with 100,000 runs (the big history is
  made by advancing the clock ~11 years: the scheduler creates every run);
* ``backfill``: a backfill of 1,000 years of an hourly export, then clock steps of 30
  virtual minutes: the time each step holds the store's lock, and RSS above idle;
* ``advance``: a 10-year clock advance with two five-minute exports while another thread
  keeps reading an export: the longest that thread waited for one answer;
* ``state``: ``GET /_mock/state/?tenant=…`` for one tenant among 800, against the full dump;
* ``files``: how long the store's lock is held while a one-week events file download is
  created and completed (the rows are generated outside it).
"""

from __future__ import annotations

import argparse
import gc
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from common import proc_memory_kib, summarize_us, time_alternating, time_calls
from werkzeug.test import Client

HOUR = 3600
YEAR = 365 * 24 * HOUR


class LockTimer:
    """Wraps a store's lock and records, for the outermost acquisitions, how long it was held."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self._depth = threading.local()
        self.held: list[float] = []

    def __enter__(self) -> bool:
        self._lock.acquire()
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        if depth == 0:
            self._depth.since = time.perf_counter()
        return True

    def __exit__(self, *exc: object) -> None:
        self._depth.n -= 1
        if self._depth.n == 0:
            self.held.append(time.perf_counter() - self._depth.since)
        self._lock.release()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        self.__enter__()
        return True

    def release(self) -> None:
        self.__exit__()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lock, name)


class Tenant:
    """A fake, one tenant allowed five-minute exports, and a client speaking for it."""

    def __init__(self, server: Any = None) -> None:
        from mockserver import MockServer

        self.server = server or MockServer()
        self.tenant = self.server.store.create_tenant(feature_flags=["high-frequency-batch-exports"])
        self.client = Client(self.server)
        self.headers = {"Authorization": f"Bearer {self.tenant.api_key}"}
        self.prefix = f"/api/projects/{self.tenant.project_id}"

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(self.prefix + path, headers=self.headers, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
        return response

    def post(self, path: str, body: dict[str, Any], expected: int = 201) -> Any:
        url = path if path.startswith("/_mock") else self.prefix + path
        response = self.client.post(url, json=body, headers=self.headers)
        assert response.status_code == expected, (path, response.status_code, response.get_data(as_text=True)[:300])
        return response.json

    def export(self, interval: str = "hour") -> str:
        body = {"name": "cost", "interval": interval, "destination": {"type": "NoOp", "config": {}}}
        return str(self.post("/batch_exports/", body)["id"])

    def advance(self, seconds: float) -> None:
        self.post("/_mock/clock/advance/", {"seconds": seconds}, expected=200)


def timed(call: Callable[[], Any], iterations: int, seconds: float) -> dict[str, Any]:
    return time_calls(call, iterations, seconds)


def settle_heap() -> None:
    """Collect once and freeze what survived, as ``serve`` does every 5000 requests (``FrozenHeap``).

    CPython's full collections scan every object, so in a process holding 100k runs and
    their log lines any request may pay a pause in proportion to the whole heap: the cost
    of keeping history in a CPython process, not of the request. Frozen, collections scan
    only what came since, and the figures show what the request itself costs.
    """
    gc.collect()
    gc.freeze()


# -- sections ----------------------------------------------------------------------------


def section_history(iterations: int, seconds: float, big: int) -> dict[str, Any]:
    """GET runs and GET logs of an export with 100 runs against one with ``big`` runs.

    Both fakes live in this one process and are measured in alternating turns
    (:func:`~common.time_alternating`): the heap the history makes and the machine's
    spells weigh on both alike, and what is left is the cost of the request itself.
    """
    out: dict[str, Any] = {}
    fakes: dict[int, tuple[Tenant, str]] = {}
    for runs in (100, big):
        t = Tenant()
        export_id = t.export("hour")
        started = time.perf_counter()
        t.advance(runs * HOUR)
        made_s = time.perf_counter() - started
        store = t.server.store
        count = len(store.runs_by_export.get(export_id, ()))
        assert count == runs, (count, runs)
        fakes[runs] = (t, export_id)
        out[str(runs)] = {
            "runs": count,
            "log_lines": len(store.logs_by_source[export_id]),
            "make_s": made_s,
            "page_runs": len(t.get(f"/batch_exports/{export_id}/runs/").json["results"]),
            "page_logs": len(t.get(f"/batch_exports/{export_id}/logs/").json["results"]),
        }
    settle_heap()
    calls = {
        f"{runs}/{kind}": (lambda t=t, path=f"/batch_exports/{e}/{kind}/": t.get(path))
        for runs, (t, e) in fakes.items()
        for kind in ("runs", "logs")
    }
    timings = time_alternating(calls, iterations, seconds)
    for runs in fakes:
        out[str(runs)]["list_runs"] = timings[f"{runs}/runs"]
        out[str(runs)]["list_logs"] = timings[f"{runs}/logs"]
        out[str(runs)]["rss_kib"] = proc_memory_kib()["VmRSS"]
    del fakes, calls
    gc.unfreeze()
    gc.collect()
    out["ratio_runs"] = out[str(big)]["list_runs"]["cpu"]["p50"] / out["100"]["list_runs"]["cpu"]["p50"]
    out["ratio_logs"] = out[str(big)]["list_logs"]["cpu"]["p50"] / out["100"]["list_logs"]["cpu"]["p50"]
    out["big"] = big
    return out


def section_backfill(steps: int, seconds: float, years: int) -> dict[str, Any]:
    t = Tenant()
    export_id = t.export("hour")
    store = t.server.store
    t.advance(60)
    settle_heap()
    idle = proc_memory_kib()["VmRSS"]
    now = store.clock.now()
    start = now.replace(year=now.year - years)
    timer = LockTimer(store.lock)
    store.lock = timer
    created = time.perf_counter()
    backfill = t.post(
        f"/batch_exports/{export_id}/backfills/", {"start_at": start.isoformat(), "end_at": now.isoformat()}
    )
    create_s = time.perf_counter() - created
    timer.held.clear()
    per_step: list[float] = []
    deadline = time.perf_counter() + seconds
    done = 0
    for done in range(1, steps + 1):  # noqa: B007 - the count is reported
        timer.held.clear()
        t.advance(1800)
        per_step.append(max(timer.held) * 1e6)
        if time.perf_counter() > deadline:
            break
    read = timed(lambda: t.get(f"/batch_exports/{export_id}/backfills/{backfill['backfill_id']}/"), 200, 5)
    progress = t.get(f"/batch_exports/{export_id}/backfills/{backfill['backfill_id']}/").json["progress"]
    gc.collect()
    rss = proc_memory_kib()["VmRSS"]
    return {
        "years": years,
        "steps": done,
        "virtual_minutes_per_step": 30,
        "runs": len(store.runs_by_backfill.get(backfill["backfill_id"], ())),
        "create_ms": create_s * 1000,
        "lock_per_step": {**summarize_us(per_step), "max": max(per_step)},
        "retrieve_backfill": read,
        "progress": progress,
        "rss_idle_kib": idle,
        "rss_after_kib": rss,
        "above_idle_kib": rss - idle,
    }


def section_advance(years: float, seconds: float) -> dict[str, Any]:
    from mockserver.server import FrozenHeap

    t = Tenant()
    FrozenHeap(t.server)  # the heap policy ``serve`` runs with (freezes between the jump's steps)
    ids = [t.export("every 5 minutes"), t.export("every 5 minutes")]
    reader = Tenant(t.server)  # another tenant's client, as another test would be
    reader_export = reader.export("day")
    t.advance(60.5)  # a float: the first one builds the full validator (under the lock), not part of the jump
    gc.collect()
    idle = proc_memory_kib()["VmRSS"]
    waits: list[float] = []
    stop = threading.Event()

    def read() -> None:
        client = Client(t.server)
        url = f"{reader.prefix}/batch_exports/{reader_export}/"
        while not stop.is_set():
            started = time.perf_counter()
            response = client.get(url, headers=reader.headers)
            waits.append((time.perf_counter() - started) * 1e6)
            assert response.status_code == 200
            time.sleep(0.002)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    time.sleep(0.2)
    started = time.perf_counter()
    t.advance(years * YEAR)
    advance_s = time.perf_counter() - started
    stop.set()
    thread.join(timeout=seconds)
    store = t.server.store
    gc.collect()
    return {
        "years": years,
        "exports": 2,
        "advance_s": advance_s,
        "runs": sum(len(store.runs_by_export.get(i, ())) for i in ids),
        "reader_requests": len(waits),
        "reader": summarize_us(waits),
        "reader_max_ms": max(waits) / 1000,
        "rss_idle_kib": idle,
        "rss_after_kib": proc_memory_kib()["VmRSS"],
        "peak_kib": proc_memory_kib()["VmHWM"],
    }


def section_state(iterations: int, seconds: float, tenants: int) -> dict[str, Any]:
    from mockserver import MockServer

    server = MockServer()
    everyone = [Tenant(server) for _ in range(tenants)]
    for t in everyone:
        t.export("hour")
    everyone[0].advance(24 * HOUR)  # 24 runs, ~100 log lines per tenant
    store = server.store
    target = everyone[len(everyone) // 2]
    client = Client(server)
    url = f"/_mock/state/?tenant={target.tenant.organization_id}"
    body = client.get(url).json
    projects = [p for o in body["organizations"] for p in o["projects"]]
    assert [p["id"] for p in projects] == [target.tenant.project_id], url
    one = timed(lambda: client.get(url), iterations, seconds)
    started = time.perf_counter()
    full = client.get("/_mock/state/")
    full_s = time.perf_counter() - started
    return {
        "tenants": tenants,
        "runs": len(store.runs),
        "log_lines": len(store.logs),
        "one_tenant": one,
        "full_dump_ms": full_s * 1000,
        "full_dump_bytes": len(full.get_data()),
    }


def section_files(iterations: int, seconds: float) -> dict[str, Any]:
    t = Tenant()
    store = t.server.store
    timer = LockTimer(store.lock)
    store.lock = timer
    now = store.clock.now()
    body = {
        "model": "events",
        "file": {"format": "JSONLines"},
        "data_interval_start": (now - timedelta(days=7)).isoformat(),
        "data_interval_end": now.isoformat(),
    }
    holds: list[float] = []
    totals: list[float] = []
    for _ in range(min(iterations, 5)):
        timer.held.clear()
        started = time.perf_counter()
        run = t.post("/file_download_batch_exports/", body, expected=202)
        t.advance(200)
        totals.append((time.perf_counter() - started) * 1e6)
        holds.append(max(timer.held) * 1e6)
        files = t.get(f"/file_download_batch_exports/{run['id']}/").json["files"]
        assert files, run
    expired_before = sum(len(f.content) for f in store.download_files.values())
    t.advance(store.limits.file_download_expiration_seconds + 60)
    expired_after = sum(len(f.content) for f in store.download_files.values())
    return {
        "create_and_complete": summarize_us(totals),
        "longest_lock_hold": summarize_us(holds),
        "file_bytes_before_expiry": expired_before,
        "file_bytes_after_expiry": expired_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", choices=["history", "backfill", "advance", "state", "files", "all"])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=5.0, help="time cap per measurement")
    parser.add_argument("--quick", action="store_true", help="smaller histories (a smoke run)")
    args = parser.parse_args()
    quick = args.quick
    sections: dict[str, Callable[[], dict[str, Any]]] = {
        "history": lambda: section_history(args.iterations, args.seconds, 10_000 if quick else 100_000),
        "backfill": lambda: section_backfill(20 if quick else 200, args.seconds * 6, 1000),
        "advance": lambda: section_advance(1 if quick else 10, 120),
        "state": lambda: section_state(args.iterations, args.seconds, 100 if quick else 800),
        "files": lambda: section_files(args.iterations, args.seconds),
    }
    chosen = list(sections) if args.section == "all" else [args.section]
    result: dict[str, Any] = {}
    for name in chosen:
        started = time.perf_counter()
        try:
            result[name] = sections[name]()
        except Exception as exc:  # noqa: BLE001 - one failed section must not lose the others
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
        result[name]["elapsed_s"] = time.perf_counter() - started
        gc.unfreeze()
        gc.collect()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
