"""Shared helpers of the benchmark: paths, core pinning, ports, readiness, memory, statistics."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
PY = sys.executable
HOST = "127.0.0.1"

#: The server (and every in-process measurement) runs on this core ...
SERVER_CORE = 0
#: ... and the load generator on this one.
CLIENT_CORE = 1


def code_root() -> Path:
    """Where the fake's code under test lives: the run's snapshot (see :func:`code_snapshot`) or the checkout."""
    return Path(os.environ.get("BENCH_CODE_ROOT") or ROOT)


def spec_file() -> Path:
    return code_root() / "spec" / "openapi.yaml"


def source_fingerprint(root: Path) -> str:
    """Short hash of the fake's code and spec under ``root`` (tells two versions of the fake apart)."""
    digest = hashlib.sha256()
    files = sorted(
        p
        for folder in ("mockserver", "fixtures")
        for p in (root / folder).rglob("*")
        if p.suffix in (".py", ".yaml") and p.is_file() and not p.is_symlink()
    )
    for path in [*files, root / "spec" / "openapi.yaml"]:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@contextmanager
def code_snapshot() -> Iterator[Path]:
    """Copy ``mockserver/``, ``fixtures/`` and ``spec/`` to a temp dir; every child process imports them from there.

    ``mockserver/fixtures`` and ``mockserver/openapi.yaml`` are symlinks into ``fixtures/`` and
    ``spec/``; they are copied as links, so their targets are copied beside them.

    One run then measures one version of the fake even if the checkout is edited meanwhile.
    Children also get bytecode caching back (``PYTHONDONTWRITEBYTECODE`` unset), as a
    developer's machine has it, so start-up is not charged for compiling the fake each time.
    """
    saved = {k: os.environ.get(k) for k in ("BENCH_CODE_ROOT", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    with tempfile.TemporaryDirectory(prefix="bench-code-") as tmp:
        root = Path(tmp)
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / "mockserver", root / "mockserver", symlinks=True, ignore=ignore)
        shutil.copytree(ROOT / "fixtures", root / "fixtures", ignore=ignore)
        shutil.copytree(ROOT / "spec", root / "spec", ignore=ignore)
        os.environ["BENCH_CODE_ROOT"] = tmp
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [tmp, saved["PYTHONPATH"]]))
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        try:
            yield root
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def can_pin() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(core: int, argv: Sequence[str]) -> list[str]:
    """``argv`` prefixed with ``taskset -c core`` where pinning is possible."""
    return ["taskset", "-c", str(core), *argv] if can_pin() else list(argv)


def free_port() -> int:
    """A port that was free a moment ago on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def http_answers(port: int, path: str = "/__bench_ready", timeout: float = 1.0) -> bool:
    """True once something on ``port`` answers an HTTP request (any status)."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


def wait_until_answers(
    port: int, deadline_s: float, proc: subprocess.Popen[bytes] | None = None, poll_s: float = 0.002
) -> float | None:
    """Poll until ``port`` answers; seconds waited, or ``None`` on timeout or early exit."""
    start = time.perf_counter()
    while time.perf_counter() - start < deadline_s:
        if proc is not None and proc.poll() is not None:
            return None
        if http_answers(port):
            return time.perf_counter() - start
        time.sleep(poll_s)
    return None


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Terminate one child we started (by its own handle), then kill it if it lingers."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def proc_memory_kib(pid: int | str = "self") -> dict[str, int]:
    """``VmRSS`` (current) and ``VmHWM`` (peak) of a process, in KiB, from ``/proc``."""
    out: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and of every process below it, from ``/proc``.

    granian serves from a worker it forks, and Prism from node processes under ``npx``:
    the whole tree is the server. A process that ends meanwhile drops out of the sum, so
    take the difference of two readings only around a run during which none ends.
    """
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15 of stat)
        todo += children.get(current, [])
    return total


def busy_cpu_seconds() -> float:
    """CPU time spent busy by every process on the machine since boot (all cores, ``/proc/stat``)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process and of every child it has waited for."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


class CpuNoise:
    """How busy *other* processes kept the machine between two points (in cores, 0 = quiet).

    Busy time of the whole machine minus our own and our waited-for children's; the
    benchmark's figures are only comparable from run to run when this stays near 0.
    """

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.busy = busy_cpu_seconds()
        self.own = own_cpu_seconds()

    def others_cores(self) -> float:
        wall = time.perf_counter() - self.wall
        others = (busy_cpu_seconds() - self.busy) - (own_cpu_seconds() - self.own)
        return max(0.0, others / wall) if wall > 0 else 0.0


def wait_for_quiet(max_wait_s: float, threshold_cores: float = 0.1, window_s: float = 2.0) -> tuple[float, float]:
    """Wait (bounded) until other processes use under ``threshold_cores``; (seconds waited, last reading)."""
    started = time.perf_counter()
    reading = float("nan")
    while True:
        probe = CpuNoise()
        time.sleep(window_s)
        reading = probe.others_cores()
        waited = time.perf_counter() - started
        if reading < threshold_cores or waited >= max_wait_s:
            return waited, reading


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (``nan`` when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return float(sorted_values[rank - 1])


def time_calls(call: Callable[[], Any], iterations: int, seconds: float, warmup: int = 20) -> dict[str, Any]:
    """``call`` timed up to ``iterations`` times (or ``seconds``) after ``warmup`` calls, in µs.

    The wall-clock summary, with under ``"cpu"`` the same for the CPU time the calling
    thread used: the request's cost alone. On a shared virtual machine the wall clock
    also counts time the host gave to other guests and the kernel's memory scans.
    """
    for _ in range(min(warmup, iterations)):
        call()
    wall: list[float] = []
    cpu: list[float] = []
    deadline = time.perf_counter() + seconds
    for _ in range(iterations):
        _time_once(call, wall, cpu)
        if time.perf_counter() > deadline:
            break
    return {**summarize_us(wall), "cpu": summarize_us(cpu)}


def _time_once(call: Callable[[], Any], wall: list[float], cpu: list[float]) -> None:
    """Call once; append its wall-clock and CPU time in µs."""
    start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
    call()
    cpu.append((time.thread_time_ns() - start_cpu) / 1000)
    wall.append((time.perf_counter_ns() - start) / 1000)


def time_alternating(
    calls: dict[str, Callable[[], Any]], iterations: int, seconds: float, rounds: int = 10, warmup: int = 20
) -> dict[str, dict[str, Any]]:
    """Each of ``calls`` timed as :func:`time_calls` does, in ``rounds`` alternating turns.

    For comparing two costs: measured one after the other, they also differ by whatever
    the machine did meanwhile (its clock frequency, another guest of the host); taking
    turns, both see the same spells of it.
    """
    for call in calls.values():
        for _ in range(min(warmup, iterations)):
            call()
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in calls}
    per_turn = max(1, iterations // rounds)
    deadline = time.perf_counter() + seconds
    for _ in range(rounds):
        for name, call in calls.items():
            wall, cpu = samples[name]
            for _ in range(per_turn):
                _time_once(call, wall, cpu)
        if time.perf_counter() > deadline:
            break
    return {name: {**summarize_us(wall), "cpu": summarize_us(cpu)} for name, (wall, cpu) in samples.items()}


def summarize_us(samples_us: Sequence[float]) -> dict[str, float]:
    """n, median, p99, mean and min of durations in microseconds."""
    values = sorted(samples_us)
    if not values:
        return {"n": 0, "p50": float("nan"), "p99": float("nan"), "mean": float("nan"), "min": float("nan")}
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values),
        "min": values[0],
    }


def run_json_child(argv: Sequence[str], timeout: float, core: int = SERVER_CORE) -> dict[str, Any]:
    """Run a bench script in a fresh, pinned interpreter; its last stdout line is JSON."""
    proc = subprocess.run(
        pinned(core, [PY, *argv]), capture_output=True, text=True, timeout=timeout, cwd=code_root(), check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError(f"{' '.join(argv)} printed nothing:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _command_version(argv: Sequence[str]) -> str | None:
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (proc.stdout or proc.stderr).strip().splitlines()
    return text[0].strip() if text else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def package_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _mem_total_gib(),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "werkzeug": package_version("werkzeug"),
        "openapi-core": package_version("openapi-core"),
        "node": _command_version(["node", "--version"]) if shutil.which("node") else None,
        "wrk": _command_version(["wrk", "--version"]) if shutil.which("wrk") else None,
        "pinning": (f"taskset: server core {SERVER_CORE}, load generator core {CLIENT_CORE}" if can_pin() else "none"),
    }
