"""Drive one workload at one concurrency against one port: wrk if installed, else ``loadgen.py``.

Both run on the load-generator core with one thread (``wrk -t1``) and report the same
figures: completed requests, elapsed time, errors and latency percentiles in microseconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

from common import BENCH_DIR, CLIENT_CORE, HOST, PY, pinned
from workloads import Endpoints

LUA_SCRIPT = BENCH_DIR / "workload.lua"


@dataclass
class LoadResult:
    target: str
    workload: str
    connections: int
    generator: str
    requests: int
    seconds: float
    rps: float
    p50_us: float
    p90_us: float
    p99_us: float
    mean_us: float
    errors: dict[str, int]
    #: The server's RSS right after the run (KiB), filled in by the caller.
    server_rss_kib: int | None = None
    #: CPU time the server's processes spent per answered request (µs, user + system), filled in by the caller.
    server_cpu_us: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def pick_generator(preference: str) -> str:
    """``wrk`` or ``python``; ``auto`` takes wrk when it is on the PATH."""
    if preference == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if preference == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("--loadgen wrk: wrk is not installed (apt-get install -y wrk)")
    return preference


def _wrk(port: int, endpoints: Endpoints, workload: str, connections: int, duration: float) -> dict[str, Any]:
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        f"http://{HOST}:{port}/",
        "--",
        *endpoints.wrk_args(workload),
    ]
    proc = subprocess.run(pinned(CLIENT_CORE, argv), capture_output=True, text=True, timeout=duration + 60, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return result
    raise RuntimeError(f"wrk printed no BENCH_JSON line (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def _python(port: int, endpoints: Endpoints, workload: str, connections: int, duration: float) -> dict[str, Any]:
    argv = [
        PY,
        str(BENCH_DIR / "loadgen.py"),
        "--port",
        str(port),
        "--connections",
        str(connections),
        "--duration",
        str(duration),
        "--workload",
        workload,
        "--api-key",
        endpoints.api_key,
        "--list-project",
        str(endpoints.list_project),
        "--create-key",
        endpoints.create_key,
        "--create-project",
        str(endpoints.create_project),
        "--export-id",
        endpoints.export_id,
    ]
    proc = subprocess.run(pinned(CLIENT_CORE, argv), capture_output=True, text=True, timeout=duration + 60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen.py exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_load(
    generator: str, target: str, port: int, endpoints: Endpoints, workload: str, connections: int, duration: float
) -> LoadResult:
    runner = _wrk if generator == "wrk" else _python
    raw = runner(port, endpoints, workload, connections, duration)
    seconds = raw["duration_us"] / 1e6
    lat = raw["latency_us"]
    return LoadResult(
        target=target,
        workload=workload,
        connections=connections,
        generator=generator,
        requests=int(raw["requests"]),
        seconds=round(seconds, 3),
        rps=raw["requests"] / seconds if seconds > 0 else 0.0,
        p50_us=float(lat["p50"]),
        p90_us=float(lat["p90"]),
        p99_us=float(lat["p99"]),
        mean_us=float(lat["mean"]),
        errors={k: int(v) for k, v in raw["errors"].items()},
    )
