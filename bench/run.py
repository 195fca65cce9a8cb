"""The benchmark of issue #4: the fake against a trivial endpoint (the ceiling) and Prism.

    make bench                      # full run, about 6-7 minutes; writes bench/RESULTS.md
    .venv/bin/python bench/run.py --quick     # about a minute; writes bench/out/RESULTS-quick.md

Loopback only; every loop is bounded in count and time. Servers are pinned to core 0 and
the load generator (wrk if installed, else ``bench/loadgen.py``) to core 1. Prism is
installed into ``bench/.prism`` on first use (``npm ci`` from ``bench/prism/``); without
npm or network the run goes on without it and says so. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fixture_cost
import report
import startup
import targets
from common import (
    BENCH_DIR,
    OUT_DIR,
    ROOT,
    CpuNoise,
    code_snapshot,
    machine_info,
    run_json_child,
    source_fingerprint,
    tree_cpu_seconds,
    wait_for_quiet,
)
from load import LoadResult, pick_generator, run_load
from workloads import WORKLOADS

from mockserver.server import granian_available

SECTIONS = ("startup", "fixture", "inproc", "profile", "exports", "memory", "cost", "http")


@dataclass(frozen=True)
class Plan:
    """How long and how often each measurement runs."""

    duration_s: int  # per HTTP run
    warmup_s: int  # per HTTP target
    connections: tuple[int, ...]
    iterations: int  # per in-process measurement ...
    seconds: float  # ... or this long, whichever ends first
    profile_iterations: int
    export_iterations: int
    exports: int
    memory_requests: int
    memory_seconds: float
    startup_repeats: int
    pytest_tests: int
    wait_quiet_s: float  # before starting, wait at most this long for other processes to go idle


FULL = Plan(6, 2, (1, 8, 32), 1000, 8.0, 300, 200, 100_000, 1_000_000, 120.0, 5, 300, 60.0)
QUICK = Plan(1, 1, (1, 8, 32), 100, 1.0, 60, 20, 100_000, 1_000_000, 5.0, 2, 50, 0.0)


class Runner:
    def __init__(self, plan: Plan, args: argparse.Namespace) -> None:
        self.plan = plan
        self.args = args
        self.started = time.perf_counter()
        self.results: dict[str, Any] = {}

    def log(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f} s] {message}", file=sys.stderr, flush=True)

    def section(self, name: str, fn: Callable[[], Any], *, part_of: str | None = None) -> None:
        """Run one measurement unless its section (or the one it is ``part_of``) was left out."""
        if (part_of or name) not in self.args.sections:
            return
        self.log(f"{name} ...")
        noise = CpuNoise()
        try:
            self.results[name] = fn()
        except Exception as exc:  # noqa: BLE001 - one failed section must not lose the others
            self.log(f"{name} FAILED: {exc}")
            traceback.print_exc(file=sys.stderr)
            self.results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        self.results.setdefault("noise", {})[name] = round(noise.others_cores(), 3)

    # -- in-process sections (each a fresh interpreter on the server core) --------------

    def inproc(self, section: str, iterations: int, seconds: float, *extra: str) -> dict[str, Any]:
        timeout = seconds * 12 + 120  # several capped measurements per section, plus set-up
        argv = [
            str(BENCH_DIR / "inproc.py"),
            section,
            "--iterations",
            str(iterations),
            "--seconds",
            str(seconds),
            *extra,
        ]
        return run_json_child(argv, timeout=timeout)

    def cost(self) -> dict[str, Any]:
        """``bench/cost.py``: costs against history (runs, logs, backfills, clock jumps, state, files)."""
        argv = [str(BENCH_DIR / "cost.py"), "all", "--iterations", str(self.plan.iterations // 3 or 30)]
        if self.args.quick:
            argv.append("--quick")
        return run_json_child(argv, timeout=1800 if not self.args.quick else 600)

    # -- HTTP -------------------------------------------------------------------------

    def http(self, generator: str, prism_ok: bool) -> dict[str, Any]:
        plan = self.plan
        runs: list[LoadResult] = []
        checks: dict[str, Any] = {}
        servers: dict[str, Any] = {}
        endpoints = None
        order: list[tuple[str, Callable[[], targets.Target]]] = [
            ("fake", lambda: targets.start_fake(self.args.server)),
            ("ceiling", lambda: targets.start_ceiling(self.args.server)),
        ]
        if prism_ok:
            order.append(("prism", targets.start_prism))
        for name, start in order:
            try:
                target = start()
            except Exception as exc:  # noqa: BLE001 - e.g. Prism failing to start: go on without it
                self.log(f"{name} did not start: {exc}")
                servers[name] = {"error": str(exc)}
                continue
            with targets.running(target):
                if name == "fake":
                    endpoints = targets.seed_fake(target.port)
                assert endpoints is not None, "the fake is seeded first; the others reuse its ids"
                checks[name] = targets.check_requests(target.port, endpoints)
                self.log(f"{name} up in {target.startup_s * 1000:.0f} ms on port {target.port}; {checks[name]}")
                rss_seeded = target.memory_kib().get("VmRSS")
                run_load(generator, name, target.port, endpoints, "mixed", 8, plan.warmup_s)
                served = 0
                for workload in WORKLOADS:
                    for conns in plan.connections:
                        cpu_before = tree_cpu_seconds(target.proc.pid)
                        result = run_load(generator, name, target.port, endpoints, workload, conns, plan.duration_s)
                        cpu = tree_cpu_seconds(target.proc.pid) - cpu_before
                        result.server_rss_kib = target.memory_kib().get("VmRSS")
                        result.server_cpu_us = cpu * 1e6 / result.requests if result.requests else None
                        runs.append(result)
                        served += result.requests
                        self.log(
                            f"  {name:8} {workload:8} c{conns:<3} {result.rps:9,.0f} req/s  "
                            f"p50 {report.us(result.p50_us):>9}  p99 {report.us(result.p99_us):>9}  "
                            f"CPU {report.us(result.server_cpu_us):>9}/req"
                            + (f"  errors {result.errors}" if result.error_count else "")
                        )
                servers[name] = {
                    "startup_s": target.startup_s,
                    "rss_seeded_kib": rss_seeded,
                    "requests_served": served,
                    "memory_kib": target.memory_kib(),
                    "notes": target.notes,
                }
        return {"generator": generator, "runs": [r.to_dict() for r in runs], "checks": checks, "servers": servers}

    # -- everything ---------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        plan, args = self.plan, self.args
        generator = pick_generator(args.loadgen)
        self.results.update(
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            mode="quick" if args.quick else "full",
            command="python bench/run.py" + (" --quick" if args.quick else ""),
            machine=machine_info(),
            config={
                "generator": generator,
                "server": args.server,
                "duration_s": plan.duration_s,
                "connections": list(plan.connections),
                "plan": asdict(plan),
            },
        )
        wait_s = plan.wait_quiet_s if args.wait_quiet is None else args.wait_quiet
        if wait_s > 0:
            self.log(f"waiting up to {wait_s:.0f} s for other processes to leave the CPUs ...")
            waited, reading = wait_for_quiet(wait_s)
            self.results["quiet_wait"] = {"waited_s": round(waited, 1), "others_cores": round(reading, 3)}
            self.log(f"other processes at {reading:.2f} cores after {waited:.0f} s")
        prism_ok = False
        if args.no_prism:
            self.results["prism"] = {"available": False, "message": "skipped (--no-prism)"}
        elif "http" in args.sections:
            self.log("Prism: checking / installing ...")
            prism_ok, message = targets.ensure_prism()
            self.results["prism"] = {"available": prism_ok, "message": message, "version": targets.prism_version()}
            self.log(message)

        self.section("startup", lambda: startup.measure(plan.startup_repeats, args.server))
        self.section("fixture", lambda: self.inproc("fixture", plan.iterations, plan.seconds))
        self.section("fixture_pytest", lambda: fixture_cost.measure(plan.pytest_tests), part_of="fixture")
        self.section("inproc", lambda: self.inproc("requests", plan.iterations, plan.seconds))
        self.section("profile", lambda: self.inproc("profile", plan.profile_iterations, plan.seconds + 5))
        self.section(
            "exports",
            lambda: self.inproc("exports", plan.export_iterations, plan.seconds / 2, "--exports", str(plan.exports)),
        )
        memory_requests = args.memory_requests or plan.memory_requests
        memory_seconds = args.memory_seconds or plan.memory_seconds
        self.section("memory", lambda: self.inproc("memory", memory_requests, memory_seconds))
        self.section("cost", self.cost)
        self.section("http", lambda: self.http(generator, prism_ok))
        self.results["elapsed_s"] = time.perf_counter() - self.started
        self.results["targets"] = report.evaluate_targets(self.results)
        return self.results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~1 minute smoke run (1 s per HTTP run)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto", help="default: wrk if present")
    parser.add_argument("--no-prism", action="store_true", help="do not install or run Prism")
    parser.add_argument(
        "--server",
        choices=["auto", "granian", "werkzeug"],
        default="auto",
        help="the server `serve` runs on, for the fake and the ceiling alike (auto: what `serve` picks)",
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--memory-requests", type=int, default=0, help="memory loop: requests aimed at (1,000,000)")
    parser.add_argument("--memory-seconds", type=float, default=0, help="memory loop: time cap (full 120 s)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=None,
        help="wait at most this many seconds for other processes to go idle first (full 60, quick 0)",
    )
    parser.add_argument(
        "--report-only",
        type=Path,
        default=None,
        metavar="JSON",
        help="measure nothing: re-render the Markdown from a results JSON of an earlier run",
    )
    parser.add_argument("--output", type=Path, default=None, help="Markdown file (full: bench/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.server == "auto":
        args.server = "granian" if granian_available() else "werkzeug"
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only is not None:
        results = json.loads(args.report_only.read_text())
        output = args.output or (
            BENCH_DIR / "RESULTS.md" if results.get("mode") == "full" else OUT_DIR / "RESULTS-quick.md"
        )
        output.write_text(report.markdown(results))
        print(f"Rendered {args.report_only} to {output}.", file=sys.stderr)
        return 0
    plan = QUICK if args.quick else FULL
    before = source_fingerprint(ROOT)
    with code_snapshot() as snapshot:
        results = Runner(plan, args).run()
        results["code"] = {"snapshot": source_fingerprint(snapshot), "checkout_at_start": before}
    results["code"]["checkout_at_end"] = source_fingerprint(ROOT)
    OUT_DIR.mkdir(exist_ok=True)
    suffix = "-quick" if args.quick else ""
    (OUT_DIR / f"results{suffix}.json").write_text(json.dumps(results, indent=2, default=str))
    output = args.output or (OUT_DIR / "RESULTS-quick.md" if args.quick else BENCH_DIR / "RESULTS.md")
    text = report.markdown(results)
    output.write_text(text)
    print(text)
    print(f"Written to {output} (raw figures: {OUT_DIR / f'results{suffix}.json'}).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
