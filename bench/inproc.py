"""In-process measurements of the fake; each section runs in a fresh interpreter.

``run.py`` starts ``python bench/inproc.py SECTION --iterations N --seconds S`` pinned to
the server core and reads the JSON line it prints last. Sections:

* ``requests``: one request through werkzeug's test ``Client`` (what the project's tests do),
  in the default mode (requests validated) and ``strict`` (responses validated too), plus a
  trivial app through the same client (the client's own share);
* ``profile``: cProfile of GET retrieve and POST create, top functions by cumulative time;
* ``fixture``: ``store.create_tenant()``, ``MockServer()`` and a ``ServerThread`` start/stop;
* ``exports``: memory with 100k exports and a list page at 100 against 100k exports;
* ``memory``: RSS along a long read-only request loop (called straight through WSGI).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sysconfig
import time
from collections.abc import Callable, Iterable
from typing import Any

from common import OUT_DIR, ROOT, code_root, proc_memory_kib, summarize_us, time_calls
from werkzeug.test import Client, EnvironBuilder
from workloads import CREATE_BODY, LIST_EXPORTS, LIST_LIMIT

Call = Callable[[], Any]


def timed_samples(call: Call, iterations: int, seconds: float, warmup: int = 20) -> list[float]:
    """Durations of ``call`` in µs: up to ``iterations`` calls or ``seconds``, whichever ends first."""
    for _ in range(min(warmup, iterations)):
        call()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    clock = time.perf_counter_ns
    for _ in range(iterations):
        start = clock()
        call()
        samples.append((clock() - start) / 1000)
        if time.perf_counter() > deadline:
            break
    return samples


class WsgiCall:
    """One prebuilt request called straight through WSGI (no test client): the fake's own cost."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        method: str,
        path: str,
        headers: dict[str, str],
        body: str | None = None,
    ) -> None:
        self.app = app
        self.data = body.encode() if body is not None else b""
        builder = EnvironBuilder(path=path, method=method, headers=list(headers.items()), data=self.data or None)
        self.template = builder.get_environ()
        self.status = ""

    def _start_response(self, status: str, headers: Any, exc_info: Any = None) -> None:
        self.status = status

    def __call__(self) -> int:
        environ = dict(self.template)
        environ["wsgi.input"] = io.BytesIO(self.data)
        result = self.app(environ, self._start_response)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return int(self.status[:3])


class Fixture:
    """A fake with project A holding ``exports`` exports and an empty project C for creates."""

    def __init__(self, *, strict: bool = False, exports: int = LIST_EXPORTS) -> None:
        from mockserver import MockServer

        self.server = MockServer(strict=strict)
        self.tenant_a = self.server.store.create_tenant()
        self.tenant_c = self.server.store.create_tenant()
        # As the project's tests build it (tests/support.py): no cookie jar, which the API never uses.
        self.client = Client(self.server, use_cookies=False)
        self.headers_a = {"Authorization": f"Bearer {self.tenant_a.api_key}"}
        self.headers_c = {"Authorization": f"Bearer {self.tenant_c.api_key}", "Content-Type": "application/json"}
        self.prefix_a = f"/api/projects/{self.tenant_a.project_id}/batch_exports/"
        self.prefix_c = f"/api/projects/{self.tenant_c.project_id}/batch_exports/"
        ids = [self._create_a() for _ in range(exports)]
        self.export_id = ids[len(ids) // 2]

    def _create_a(self) -> str:
        headers = {**self.headers_a, "Content-Type": "application/json"}
        response = self.client.post(self.prefix_a, data=CREATE_BODY, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return str(response.json["id"])  # type: ignore[index]

    def retrieve(self) -> Any:
        return self.client.get(f"{self.prefix_a}{self.export_id}/", headers=self.headers_a)

    def list(self) -> Any:
        return self.client.get(f"{self.prefix_a}?limit={LIST_LIMIT}", headers=self.headers_a)

    def create(self) -> Any:
        return self.client.post(self.prefix_c, data=CREATE_BODY, headers=self.headers_c)

    def calls(self) -> dict[str, tuple[Call, int]]:
        return {"retrieve": (self.retrieve, 200), "list": (self.list, 200), "create": (self.create, 201)}

    def direct_calls(self) -> dict[str, Call]:
        """The same three requests through ``mockserver.http.direct.DirectClient`` (the documented faster path)."""
        from mockserver.http.direct import DirectClient

        client_a = DirectClient(self.server, api_key=self.tenant_a.api_key)
        client_c = DirectClient(self.server, api_key=self.tenant_c.api_key)
        body = json.loads(CREATE_BODY)
        calls: dict[str, Call] = {
            "retrieve": lambda: client_a.get(f"{self.prefix_a}{self.export_id}/"),
            "list": lambda: client_a.get(self.prefix_a, query={"limit": LIST_LIMIT}),
            "create": lambda: client_c.post(self.prefix_c, json=body),
        }
        for name, call in calls.items():
            status = call().status
            if status != {"create": 201}.get(name, 200):
                raise RuntimeError(f"direct {name}: got {status}")
        return calls

    def wsgi_calls(self) -> dict[str, tuple[WsgiCall, int]]:
        """The same three requests, straight through WSGI."""
        app = self.server
        return {
            "retrieve": (WsgiCall(app, "GET", f"{self.prefix_a}{self.export_id}/", self.headers_a), 200),
            "list": (WsgiCall(app, "GET", f"{self.prefix_a}?limit={LIST_LIMIT}", self.headers_a), 200),
            "create": (WsgiCall(app, "POST", self.prefix_c, self.headers_c, CREATE_BODY), 201),
        }


def _trivial_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]


# -- sections ----------------------------------------------------------------------------


def timed_with_cpu(calls: dict[str, Call], iterations: int, seconds: float) -> dict[str, Any]:
    """Each call timed up to ``iterations`` times (or ``seconds``), one after the other (:func:`time_calls`).

    Timing the variants in interleaved rounds instead was tried and made every one of them
    slower (by a third: the store's heap grows with the creates meanwhile, and the caches go
    cold between turns), which no suite repeating one request would see.
    """
    return {name: time_calls(call, iterations, seconds) for name, call in calls.items()}


def section_requests(iterations: int, seconds: float) -> dict[str, Any]:
    fixtures = {mode: Fixture(strict=mode == "strict") for mode in ("default", "strict")}
    calls: dict[str, Call] = {}
    for mode, fixture in fixtures.items():
        for name, (call, expected) in fixture.calls().items():
            status = call().status_code
            if status != expected:
                raise RuntimeError(f"{mode} {name}: expected {expected}, got {status}")
            calls[f"{mode}/{name}"] = call
    default = fixtures["default"]
    for name, (wsgi, expected) in default.wsgi_calls().items():
        if wsgi() != expected:
            raise RuntimeError(f"WSGI {name}: expected {expected}, got {wsgi.status}")
        calls[f"wsgi/{name}"] = wsgi
    for name, call in default.direct_calls().items():
        calls[f"direct_client/{name}"] = call
    client = Client(_trivial_app, use_cookies=False)
    calls["client_overhead"] = lambda: client.get("/api/projects/1/batch_exports/x/", headers={"A": "b"})
    timed = timed_with_cpu(calls, iterations, seconds)
    out: dict[str, Any] = {"client_overhead": timed.pop("client_overhead")}
    for key, summary in timed.items():
        group, name = key.split("/", 1)
        out.setdefault(group, {})[name] = summary
    import mockserver

    out["module"] = mockserver.__file__
    return out


def _short(path: str) -> str:
    for marker in ("site-packages/", str(code_root()) + "/", str(ROOT) + "/", sysconfig.get_paths()["stdlib"] + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _top(stats: pstats.Stats, key: int, count: int) -> list[dict[str, Any]]:
    """Top ``count`` functions by tottime (key 2) or cumtime (key 3)."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(raw.items(), key=lambda item: item[1][key], reverse=True)[:count]
    out = []
    for (filename, line, func), (primitive, ncalls, tottime, cumtime, _callers) in rows:
        where = func if filename == "~" else f"{_short(filename)}:{line}({func})"
        calls = str(ncalls) if ncalls == primitive else f"{ncalls}/{primitive}"
        out.append({"function": where, "ncalls": calls, "tottime_s": tottime, "cumtime_s": cumtime})
    return out


def section_profile(iterations: int, seconds: float) -> dict[str, Any]:
    fixture = Fixture()
    out: dict[str, Any] = {}
    OUT_DIR.mkdir(exist_ok=True)
    calls = fixture.wsgi_calls()
    for name in ("retrieve", "create"):
        call, _ = calls[name]
        timed_samples(call, 50, seconds)  # warm caches before profiling
        profiler = cProfile.Profile()
        count = 0
        deadline = time.perf_counter() + seconds
        profiler.enable()
        while count < iterations and time.perf_counter() < deadline:
            call()
            count += 1
        profiler.disable()
        stats = pstats.Stats(profiler)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(60)
        (OUT_DIR / f"profile-{name}.txt").write_text(text.getvalue())
        profiler.dump_stats(OUT_DIR / f"profile-{name}.prof")
        total = max(row[3] for row in stats.stats.values())  # type: ignore[attr-defined]
        out[name] = {
            "requests": count,
            "us_per_request_profiled": total / count * 1e6,
            "cumulative": _top(stats, 3, 15),
            "tottime": _top(stats, 2, 15),
        }
    return out


def section_fixture(iterations: int, seconds: float) -> dict[str, Any]:
    started = time.perf_counter()
    from mockserver import MockServer
    from mockserver.server import ServerThread

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    server = MockServer()
    first_server_s = time.perf_counter() - started
    construct = timed_samples(MockServer, min(iterations, 20), seconds, warmup=0)
    store = server.store
    tenants = timed_samples(store.create_tenant, iterations, seconds, warmup=0)
    tenants_later = timed_samples(store.create_tenant, iterations, seconds, warmup=0)

    def thread_cycle() -> None:
        import http.client

        with ServerThread(server) as running:
            conn = http.client.HTTPConnection(running.host, running.port, timeout=10)
            conn.request("GET", "/_mock/clock/")
            conn.getresponse().read()
            conn.close()

    threads = timed_samples(thread_cycle, min(iterations, 10), seconds, warmup=1)
    return {
        "import_s": import_s,
        "first_mockserver_s": first_server_s,
        "mockserver_construct": summarize_us(construct),
        "create_tenant": summarize_us(tenants),
        "create_tenant_after": {"tenants_before": len(store.teams) - len(tenants_later), **summarize_us(tenants_later)},
        "server_thread_start_request_stop": summarize_us(threads),
    }


def section_exports(iterations: int, seconds: float, big: int) -> dict[str, Any]:
    fixture = Fixture()
    small_list = summarize_us(timed_samples(fixture.list, iterations, seconds))
    small_retrieve = summarize_us(timed_samples(fixture.retrieve, iterations, seconds))
    before = proc_memory_kib()
    server = fixture.server
    team = server.store.teams[fixture.tenant_a.project_id]
    started = time.perf_counter()
    for _ in range(big - LIST_EXPORTS):  # straight through the domain: 100k HTTP creates take minutes
        server.batch_exports.create(team, json.loads(CREATE_BODY), {})
    populate_s = time.perf_counter() - started
    after = proc_memory_kib()
    response = fixture.list()
    count = response.json["count"]
    if count != big:
        raise RuntimeError(f"expected {big} exports listed, got {count}")
    big_list = summarize_us(timed_samples(fixture.list, iterations, seconds, warmup=3))
    big_retrieve = summarize_us(timed_samples(fixture.retrieve, iterations, seconds))
    return {
        "exports": big,
        "populate_s": populate_s,
        "rss_before_kib": before.get("VmRSS"),
        "rss_after_kib": after.get("VmRSS"),
        "peak_kib": proc_memory_kib().get("VmHWM"),
        "bytes_per_export": (after["VmRSS"] - before["VmRSS"]) * 1024 / (big - LIST_EXPORTS),
        "list_100": small_list,
        "list_big": big_list,
        "retrieve_100": small_retrieve,
        "retrieve_big": big_retrieve,
    }


def section_memory(target_requests: int, seconds: float) -> dict[str, Any]:
    """A read-only request mix straight through WSGI; RSS every ``step`` requests."""
    fixture = Fixture()
    app = fixture.server
    json_headers_a = {**fixture.headers_a, "Content-Type": "application/json"}
    missing = "00000000-0000-4000-8000-000000000000"
    mix = [
        WsgiCall(app, "GET", f"{fixture.prefix_a}{fixture.export_id}/", fixture.headers_a),  # 200
        WsgiCall(app, "GET", f"{fixture.prefix_a}?limit={LIST_LIMIT}", fixture.headers_a),  # 200
        WsgiCall(app, "POST", fixture.prefix_a, json_headers_a, '{"name": "x"}'),  # 400, nothing stored
        WsgiCall(app, "GET", f"{fixture.prefix_a}{missing}/", fixture.headers_a),  # 404
    ]
    statuses: dict[int, int] = {}

    def one(i: int) -> None:
        status = mix[i % len(mix)]()
        statuses[status] = statuses.get(status, 0) + 1

    for i in range(400):  # warm-up: caches and lazy imports settle before the baseline
        one(i)
    statuses.clear()
    step = max(500, target_requests // 1000)
    checkpoints = [{"requests": 0, "seconds": 0.0, "rss_kib": proc_memory_kib()["VmRSS"]}]
    started = time.perf_counter()
    deadline = started + seconds
    done = 0
    while done < target_requests:
        one(done)
        done += 1
        if done % step == 0 or done == target_requests:
            elapsed = time.perf_counter() - started
            checkpoints.append({"requests": done, "seconds": elapsed, "rss_kib": proc_memory_kib()["VmRSS"]})
        if done % 100 == 0 and time.perf_counter() > deadline:
            break
    if checkpoints[-1]["requests"] != done:
        elapsed = time.perf_counter() - started
        checkpoints.append({"requests": done, "seconds": elapsed, "rss_kib": proc_memory_kib()["VmRSS"]})
    return {
        "target_requests": target_requests,
        "requests": done,
        "seconds": time.perf_counter() - started,
        "statuses": statuses,
        "checkpoints": checkpoints,
        "peak_kib": proc_memory_kib()["VmHWM"],
        "mix": "GET retrieve 200, GET list 200, POST invalid body 400, GET unknown id 404",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", choices=["requests", "profile", "fixture", "exports", "memory"])
    parser.add_argument("--iterations", type=int, default=1000, help="per measurement (memory: requests)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time cap per measurement")
    parser.add_argument("--exports", type=int, default=100_000, help="exports section: how many")
    args = parser.parse_args()
    if args.section == "requests":
        result = section_requests(args.iterations, args.seconds)
    elif args.section == "profile":
        result = section_profile(args.iterations, args.seconds)
    elif args.section == "fixture":
        result = section_fixture(args.iterations, args.seconds)
    elif args.section == "exports":
        result = section_exports(args.iterations, args.seconds, args.exports)
    else:
        result = section_memory(args.iterations, args.seconds)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
