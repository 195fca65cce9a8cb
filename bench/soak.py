"""Soak: many clients, several tenants, hostile inputs and misbehaving connections, on loopback.

Starts ``python -m mockserver serve`` (frozen clock), then for ``--duration`` seconds (or
until ``--requests``) runs ``--clients`` threads, each speaking for one of ``--tenants``
tenants, through a random mix of every kind of operation: exports (create, list, read,
update, pause, unpause, delete), runs (list, read, cancel, retry, logs), backfills
(create, list, read, cancel), file downloads, test steps, and hostile requests (malformed,
deep or oversized JSON, invalid UTF-8, no ``Content-Type``, traversal in ids, another
tenant's ids). Meanwhile a thread advances the virtual clock, and other connections stall
their bodies, disconnect half-way, or sit idle. With ``--negative-seconds`` it then runs
schemathesis' negative data over every PostHog operation (no answer may be a 5xx).

Afterwards it checks that every export answered 201 is still readable and listed unless a
204 deleted it, that ``count`` equals what the list holds, that every run's observed
statuses follow the lifecycle table, that no 5xx was answered and that no response ever
showed another tenant's key or ids. It prints the figures (requests, req/s, p50/p99,
peak RSS of the server) as JSON and exits 1 on any failure.

    python bench/soak.py --server granian --duration 60
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockserver.domain.lifecycle import RUN_TRANSITIONS  # noqa: E402

HOST = "127.0.0.1"
EXPORT = {"name": "soak", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}


def reachable(table: dict[str, frozenset[str]]) -> dict[str, set[str]]:
    """Every status reachable from each status (itself included)."""
    out = {}
    for start in table:
        seen, todo = {start}, [start]
        while todo:
            for nxt in table.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        out[start] = seen
    return out


REACHABLE = reachable(RUN_TRANSITIONS)


@dataclass
class Tenant:
    key: str
    project_id: int
    organization_id: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)

    @property
    def secrets(self) -> list[str]:
        return [self.key, self.organization_id]


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    server_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    transport_errors: int = 0
    #: run id → statuses in the order observed.
    run_history: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def note(self, method: str, path: str, status: int, seconds: float, body: bytes, others: list[Tenant]) -> None:
        text = body.decode("utf-8", "replace")
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append(f"{method} {path} -> {status} {text[:200]}")
            for other in others:
                for secret in [*other.secrets, *list(other.created)[:50]]:
                    if secret in text:
                        self.leaks.append(f"{method} {path}: {secret}")


class Client:
    """One keep-alive HTTP/1.1 connection speaking for one tenant."""

    def __init__(self, port: int, tenant: Tenant, others: list[Tenant], tally: Tally, rng: random.Random) -> None:
        self.port, self.tenant, self.others, self.tally, self.rng = port, tenant, others, tally, rng
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers if headers is not None else {"Authorization": f"Bearer {self.tenant.key}"})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=sent)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (OSError, http.client.HTTPException):
                # The server closes idle keep-alive connections: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                if attempt == 2:
                    with self.tally.lock:
                        self.tally.transport_errors += 1
                    return 0, None
        self.tally.note(method, path, response.status, time.perf_counter() - started, payload, self.others)
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return response.status, parsed

    # -- the mix --------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"/api/projects/{self.tenant.project_id}"

    def some_export(self) -> str | None:
        with self.tenant.lock:
            alive = sorted(self.tenant.created - self.tenant.deleted)
        return self.rng.choice(alive) if alive else None

    def step(self) -> None:
        rng = self.rng
        roll = rng.random()
        export = self.some_export()
        if roll < 0.12 or export is None:
            status, body = self.send("POST", f"{self.base}/batch_exports/", {**EXPORT, "name": f"soak {rng.random()}"})
            if status == 201:
                with self.tenant.lock:
                    self.tenant.created.add(body["id"])
        elif roll < 0.27:
            self.send("GET", f"{self.base}/batch_exports/?limit={rng.choice([1, 10, 100])}")
        elif roll < 0.37:
            self.send("GET", f"{self.base}/batch_exports/{export}/")
        elif roll < 0.42:
            self.send("PATCH", f"{self.base}/batch_exports/{export}/", {"name": f"renamed {rng.random()}"})
        elif roll < 0.47:
            self.send("POST", f"{self.base}/batch_exports/{export}/{rng.choice(['pause', 'unpause'])}/", {})
        elif roll < 0.50:
            with self.tenant.lock:
                self.tenant.deleted.add(export)  # before the answer: a reader must not expect it
            status, _ = self.send("DELETE", f"{self.base}/batch_exports/{export}/")
            if status != 204:
                with self.tenant.lock:
                    self.tenant.deleted.discard(export)
        elif roll < 0.62:
            status, body = self.send("GET", f"{self.base}/batch_exports/{export}/runs/")
            if status == 200:
                with self.tally.lock:
                    for run in body["results"]:
                        history = self.tally.run_history[run["id"]]
                        if not history or history[-1] != run["status"]:
                            history.append(run["status"])
                if body["results"] and rng.random() < 0.5:
                    run = rng.choice(body["results"])["id"]
                    action = rng.choice(["", "logs/", "cancel/", "retry/"])
                    method = "POST" if action in ("cancel/", "retry/") else "GET"
                    self.send(
                        method,
                        f"{self.base}/batch_exports/{export}/runs/{run}/{action}",
                        {} if method == "POST" else None,
                    )
        elif roll < 0.68:
            status, body = self.send(
                "POST", f"{self.base}/batch_exports/{export}/backfills/",
                {"start_at": "2026-01-05T00:00:00Z", "end_at": "2026-01-05T03:00:00Z"},
            )  # fmt: skip
            if status == 201 and rng.random() < 0.5:
                self.send("GET", f"{self.base}/batch_exports/{export}/backfills/{body['backfill_id']}/")
        elif roll < 0.71:
            self.send("GET", f"{self.base}/batch_exports/{export}/backfills/")
        elif roll < 0.74:
            self.send("GET", f"{self.base}/batch_exports/{export}/logs/")
        elif roll < 0.77:
            status, body = self.send(
                "POST", f"{self.base}/file_download_batch_exports/",
                {"file": {"format": "JSONLines"}, "model": "events",
                 "data_interval_start": "2026-01-04T00:00:00Z", "data_interval_end": "2026-01-04T01:00:00Z"},
            )  # fmt: skip
            if status == 202:
                self.send("GET", f"{self.base}/file_download_batch_exports/{body['id']}/")
        elif roll < 0.80:
            self.send("GET", f"{self.base}/batch_exports/test/?destination=NoOp")
        elif roll < 0.86:
            self.hostile(export)
        else:
            # Another tenant's objects with this tenant's key, and its URLs: 403/404, nothing shown.
            other = rng.choice(self.others)
            with other.lock:
                theirs = sorted(other.created)
            if theirs:
                target = rng.choice(theirs)
                self.send("GET", f"{self.base}/batch_exports/{target}/")
                self.send("GET", f"/api/projects/{other.project_id}/batch_exports/{target}/")
                self.send("GET", f"/api/organizations/{other.organization_id}/batch_exports/")

    def hostile(self, export: str) -> None:
        rng, base = self.rng, self.base
        kind = rng.randrange(9)
        if kind == 0:
            self.send("POST", f"{base}/batch_exports/", raw=b'{"name": ', headers=self.json_headers())
        elif kind == 1:
            self.send("POST", f"{base}/batch_exports/", raw=b"[" * 5000 + b"]" * 5000, headers=self.json_headers())
        elif kind == 2:
            self.send("POST", f"{base}/batch_exports/", raw=b'{"name": "\xff\xfe"}', headers=self.json_headers())
        elif kind == 3:
            self.send("POST", f"{base}/batch_exports/", raw=json.dumps(EXPORT).encode(),
                      headers={"Authorization": f"Bearer {self.tenant.key}"})  # fmt: skip
        elif kind == 4:
            self.send("GET", f"{base}/batch_exports/..%2F..%2F{export}/")
        elif kind == 5:
            self.send("GET", f"{base}/batch_exports/?limit=-1&offset=99999999999999999999")
        elif kind == 6:
            self.send("PATCH", f"{base}/batch_exports/{export}/", {"interval": ["hour"], "paused": "maybe"})
        elif kind == 7:
            self.send("GET", f"{base}/batch_exports/{export.upper()}/runs/?cursor=&ordering=%00")
        else:
            self.send("GET", f"{base}/batch_exports/?{'x' * 6000}=1")

    def json_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tenant.key}", "Content-Type": "application/json"}


def misbehave(port: int, stop: threading.Event, rng: random.Random, counts: dict[str, int]) -> None:
    """Stalled bodies (a few at a time), half-sent requests and idle connections, over and over."""
    stalled: list[socket.socket] = []
    idle: list[socket.socket] = []
    while not stop.is_set():
        kind = rng.randrange(3)
        try:
            sock = socket.create_connection((HOST, port), timeout=5)
        except OSError:
            continue
        if kind == 0:  # a body that never finishes (the server gives up on it after its body timeout)
            sock.sendall(b"POST /api/projects/1/batch_exports/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            counts["stalled"] += 1
            stalled.append(sock)
            if len(stalled) > 4:
                stalled.pop(0).close()
        elif kind == 1:  # disconnect mid-request
            sock.sendall(b"GET /api/projects/1/batch_exports/ HTTP/1.1\r\nHo")
            sock.close()
            counts["disconnected"] += 1
        else:  # a connection that never sends anything
            idle.append(sock)
            counts["idle"] += 1
            if len(idle) > 200:
                idle.pop(0).close()
        stop.wait(0.1)
    for sock in stalled + idle:
        sock.close()


def tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children (KiB), from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def start_server(server: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--server", server, "--clock", "frozen",
         "--max-body-bytes", str(1 << 20)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, int(line.split(" on ", 1)[1].split()[0].rsplit(":", 1)[1])


def control(port: int, method: str, path: str, body: Any = None) -> Any:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})  # fmt: skip
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return json.loads(payload) if payload else None


def check(port: int, tenants: list[Tenant], tally: Tally) -> dict[str, Any]:
    """The end-of-run checks: nothing lost, counts true, run histories legal."""
    lost: list[str] = []
    count_mismatches: list[str] = []
    for tenant in tenants:
        client = Client(port, tenant, [t for t in tenants if t is not tenant], tally, random.Random(0))
        status, page = client.send("GET", f"{client.base}/batch_exports/?limit=100000")
        listed = {e["id"] for e in page["results"]}
        if page["count"] != len(page["results"]):
            count_mismatches.append(f"project {tenant.project_id}: count {page['count']} != {len(page['results'])}")
        for export in tenant.created:
            status, _ = client.send("GET", f"{client.base}/batch_exports/{export}/")
            if export in tenant.deleted:
                if status != 404 or export in listed:
                    lost.append(f"{export}: deleted by a 204, still answered {status}")
            elif status != 200 or export not in listed:
                lost.append(f"{export}: created by a 201, now {status}, listed: {export in listed}")
    illegal = []
    for run_id, history in tally.run_history.items():
        for before, after in itertools.pairwise(history):
            if after not in REACHABLE.get(before, {before}):
                illegal.append(f"run {run_id}: {' -> '.join(history)}")
                break
    return {"lost": lost, "count_mismatches": count_mismatches, "illegal_histories": illegal}


def negative_data(port: int, tenant: Tenant, seconds: float) -> dict[str, Any]:
    """schemathesis' negative data over every PostHog operation of the spec, on the tenant's URLs."""
    tool = Path(sys.executable).with_name("schemathesis")
    if not tool.exists():
        return {"ran": False, "reason": "schemathesis is not installed (the 'contract' extra)"}
    config = Path(os.environ.get("TMPDIR", "/tmp")) / f"soak-schemathesis-{os.getpid()}.toml"
    config.write_text(
        f'[parameters]\n"path.project_id" = {tenant.project_id}\n"path.organization_id" = "{tenant.organization_id}"\n'
    )
    try:
        done = subprocess.run(
            [str(tool), "--no-color", "--config-file", str(config), "run", str(ROOT / "spec" / "openapi.yaml"),
             "--url", f"http://{HOST}:{port}", "--mode", "negative", "--phases", "fuzzing",
             "--checks", "not_a_server_error", "--exclude-tag", "mock_control", "-n", "25",
             "-H", f"Authorization: Bearer {tenant.key}", "--max-time", str(int(seconds)), "--seed", "1"],
            capture_output=True, text=True, timeout=seconds + 120, cwd=config.parent,  # its cache goes there
        )  # fmt: skip
    finally:
        config.unlink(missing_ok=True)
    summary = [line.strip() for line in done.stdout.splitlines() if "generated" in line or "issues" in line.lower()]
    return {"ran": True, "exit_code": done.returncode, "summary": summary[-2:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["granian", "werkzeug"], default="granian")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (bounded)")
    parser.add_argument("--requests", type=int, default=0, help="stop after this many requests (0: no limit)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--negative-seconds", type=float, default=0.0,
        help="then run schemathesis' negative data over every operation for this long (0: skip)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 3600:
        raise SystemExit("--duration: between 0 and 3600 seconds")

    process, port = start_server(args.server)
    try:
        tenants = []
        for _ in range(args.tenants):
            t = control(port, "POST", "/_mock/tenants/", {})
            tenants.append(Tenant(t["api_key"], t["project_id"], t["organization_id"]))
        tally = Tally()
        stop = threading.Event()
        peak = [tree_rss_kib(process.pid)]
        issued = [0]
        issued_lock = threading.Lock()

        def client_loop(index: int) -> None:
            tenant = tenants[index % len(tenants)]
            rng = random.Random(args.seed * 1000 + index)
            client = Client(port, tenant, [t for t in tenants if t is not tenant], tally, rng)
            while not stop.is_set():
                client.step()
                with issued_lock:
                    issued[0] += 1
                    if args.requests and issued[0] >= args.requests:
                        stop.set()

        def clock_loop() -> None:
            while not stop.wait(0.25):
                control(port, "POST", "/_mock/clock/advance/", {"seconds": 600})

        def memory_loop() -> None:
            while not stop.wait(0.25):
                peak[0] = max(peak[0], tree_rss_kib(process.pid))

        misbehaviour: dict[str, int] = defaultdict(int)
        threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(args.clients)]
        threads += [
            threading.Thread(target=clock_loop, daemon=True),
            threading.Thread(target=memory_loop, daemon=True),
            threading.Thread(target=misbehave, args=(port, stop, random.Random(args.seed), misbehaviour), daemon=True),
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        stop.wait(args.duration)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - started
        verdict = check(port, tenants, tally)
        negative = negative_data(port, tenants[0], args.negative_seconds) if args.negative_seconds else {"ran": False}
        peak[0] = max(peak[0], tree_rss_kib(process.pid))
    finally:
        process.terminate()
        try:
            exit_code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            exit_code = -9
    latencies = sorted(tally.latencies)
    figures = {
        "server": args.server,
        "clients": args.clients,
        "tenants": args.tenants,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2) if latencies else None,
        "peak_rss_mib": round(peak[0] / 1024, 1),
        "statuses": dict(sorted(tally.statuses.items())),
        "5xx": len(tally.server_errors),
        "leaks": len(tally.leaks),
        "lost": len(verdict["lost"]),
        "count_mismatches": len(verdict["count_mismatches"]),
        "illegal_histories": len(verdict["illegal_histories"]),
        "transport_errors": tally.transport_errors,
        "runs_observed": len(tally.run_history),
        "misbehaving_connections": dict(misbehaviour),
        "schemathesis_negative": negative,
        "exit_code": exit_code,
    }
    print(json.dumps(figures, indent=2))
    problems = {
        "5xx": tally.server_errors,
        "leak": tally.leaks,
        "lost": verdict["lost"],
        "count": verdict["count_mismatches"],
        "illegal": verdict["illegal_histories"],
    }
    for label, items in problems.items():
        for item in items[:10]:
            print(f"{label}: {item}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    failed = (
        figures["5xx"] or figures["leaks"] or figures["lost"] or figures["count_mismatches"]
        or figures["illegal_histories"] or figures["transport_errors"] or exit_code != 0
        or (negative["ran"] and negative.get("exit_code") != 0)
    )  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
