"""The servers under load: the fake, the ceiling and Prism, each pinned to the server core.

Each is started as a child process on a fresh loopback port and stopped through its own
handle. The fake is seeded over HTTP (two tenants through ``/_mock/tenants/``, then
:data:`~workloads.LIST_EXPORTS` exports created through the API) so the load hits exactly
what a client would have built.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from common import (
    BENCH_DIR,
    HOST,
    OUT_DIR,
    PY,
    ROOT,
    SERVER_CORE,
    code_root,
    free_port,
    pinned,
    proc_memory_kib,
    spec_file,
    stop_process,
    wait_until_answers,
)
from workloads import CREATE_BODY, EXPECTED_STATUS, LIST_EXPORTS, Endpoints

PRISM_VERSION = "5.16.0"
PRISM_MANIFEST_DIR = BENCH_DIR / "prism"  # package.json + package-lock.json, committed
PRISM_DIR = BENCH_DIR / ".prism"  # node_modules, installed on demand (gitignored)
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"


@dataclass
class Target:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    startup_s: float
    notes: list[str] = field(default_factory=list)

    def memory_kib(self) -> dict[str, int]:
        return proc_memory_kib(self.proc.pid)


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str | None = None
) -> tuple[int, Any]:
    """One request over a fresh connection: status and decoded JSON body (``None`` if not JSON)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body.encode() if body is not None else None, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(data) if data else None
    except ValueError:
        return response.status, None


def _spawn(name: str, argv: list[str], port: int, deadline_s: float) -> Target:
    OUT_DIR.mkdir(exist_ok=True)
    log = (OUT_DIR / f"{name}.log").open("wb")
    started = time.perf_counter()
    proc = subprocess.Popen(pinned(SERVER_CORE, argv), stdout=log, stderr=subprocess.STDOUT, cwd=code_root())
    log.close()
    waited = wait_until_answers(port, deadline_s, proc)
    if waited is None:
        stop_process(proc)
        tail = (OUT_DIR / f"{name}.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{name} did not answer on port {port} within {deadline_s:.0f} s:\n{tail}")
    return Target(name, proc, port, time.perf_counter() - started)


@contextmanager
def running(target: Target) -> Iterator[Target]:
    try:
        yield target
    finally:
        stop_process(target.proc)


# -- the fake ----------------------------------------------------------------------------


def fake_argv(port: int, server: str) -> list[str]:
    return [PY, "-m", "mockserver", "serve", "--host", HOST, "--port", str(port), "--seed", "0", "--server", server]


def start_fake(server: str) -> Target:
    port = free_port()
    return _spawn("fake", fake_argv(port, server), port, deadline_s=30)


def seed_fake(port: int) -> Endpoints:
    """Two tenants; project A gets the exports that list and retrieve read, project C takes creates."""
    tenants = []
    for _ in range(2):
        status, body = request(port, "POST", "/_mock/tenants/", {"Content-Type": "application/json"}, "{}")
        if status != 201:
            raise RuntimeError(f"POST /_mock/tenants/ answered {status}: {body}")
        tenants.append(body)
    list_tenant, create_tenant = tenants
    ids = _create_exports(port, list_tenant["api_key"], list_tenant["project_id"], LIST_EXPORTS)
    return Endpoints(
        api_key=list_tenant["api_key"],
        list_project=list_tenant["project_id"],
        create_key=create_tenant["api_key"],
        create_project=create_tenant["project_id"],
        export_id=ids[len(ids) // 2],
    )


def _create_exports(port: int, key: str, project: int, count: int) -> list[str]:
    ids = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for _ in range(count):
        status, body = request(port, "POST", f"/api/projects/{project}/batch_exports/", headers, CREATE_BODY)
        if status != 201:
            raise RuntimeError(f"create answered {status}: {body}")
        ids.append(body["id"])
    return ids


# -- the ceiling -------------------------------------------------------------------------


def start_ceiling(server: str) -> Target:
    port = free_port()
    argv = [PY, str(BENCH_DIR / "ceiling.py"), "--host", HOST, "--port", str(port), "--server", server]
    return _spawn("ceiling", argv, port, 30)


# -- Prism -------------------------------------------------------------------------------


def prism_version() -> str | None:
    if not PRISM_BIN.exists():
        return None
    try:
        proc = subprocess.run([str(PRISM_BIN), "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None


def ensure_prism(timeout_s: float = 300) -> tuple[bool, str]:
    """Install the pinned Prism into ``bench/.prism`` unless it is there; ``(ok, message)``."""
    if prism_version() == PRISM_VERSION:
        return True, f"Prism {PRISM_VERSION} already installed in {PRISM_DIR.relative_to(ROOT)}"
    npm = shutil.which("npm")
    if npm is None:
        return False, "npm not found: Prism cannot be installed"
    if shutil.which("node") is None:
        return False, "node not found: Prism cannot run"
    PRISM_DIR.mkdir(exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PRISM_MANIFEST_DIR / name, PRISM_DIR / name)
    attempts = [
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", f"@stoplight/prism-cli@{PRISM_VERSION}"],
    ]
    errors = []
    started = time.perf_counter()
    for argv in attempts:
        try:
            proc = subprocess.run(argv, cwd=PRISM_DIR, capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(f"{' '.join(argv[:2])}: {exc}")
            continue
        if proc.returncode == 0 and prism_version() == PRISM_VERSION:
            return True, f"installed Prism {PRISM_VERSION} in {time.perf_counter() - started:.1f} s ({argv[1]})"
        errors.append(f"{' '.join(argv[:2])} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return False, "Prism could not be installed: " + " | ".join(errors)


def start_prism() -> Target:
    port = free_port()
    argv = [str(PRISM_BIN), "mock", str(spec_file()), "--host", HOST, "--port", str(port), "--verboseLevel", "warn"]
    target = _spawn("prism", argv, port, deadline_s=120)
    target.notes.append("static examples (default mode), --verboseLevel warn, keep-alive")
    return target


# -- checks ------------------------------------------------------------------------------


def check_requests(port: int, endpoints: Endpoints) -> dict[str, Any]:
    """Each request kind once, with its status; plus the answer to an invalid create body."""
    out: dict[str, Any] = {}
    for kind, expected in EXPECTED_STATUS.items():
        method, path, headers, body = endpoints.request(kind)
        status, payload = request(port, method, path, headers, body)
        entry: dict[str, Any] = {"status": status, "ok": status == expected}
        if kind == "list" and isinstance(payload, dict):
            entry["count"] = payload.get("count")
        out[kind] = entry
    method, path, headers, _ = endpoints.request("create")
    status, _ = request(port, method, path, headers, "{}")
    out["create_invalid_body"] = {"status": status}
    status, _ = request(port, "GET", endpoints.retrieve_path, {})
    out["retrieve_without_key"] = {"status": status}
    return out
