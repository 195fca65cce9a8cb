"""How long the contract suite takes against ``serve`` on localhost, per phase, and how many requests it makes.

``make bench-contract`` (= ``.venv/bin/python bench/contract.py``) starts ``python -m mockserver serve``
(granian when installed) on a free loopback port, runs ``python -m mockserver contract`` against it at
each ``--max-examples`` asked for (25, the CI budget, and 100, the default), and prints, for each run,
the wall time, the exit status and the report's per-phase table (passed, failed, skipped, requests,
seconds). Loopback only; each run is bounded by ``--timeout``.

    python bench/contract.py                      # --max-examples 25 and 100
    python bench/contract.py --examples 25 --only auth exports runs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASE_LINE = re.compile(
    r"^\s+(ok|FAIL)\s+(\S+)\s+(\d+) passed\s+(\d+) failed\s+(\d+) skipped\s+(\d+) requests\s+([\d.]+) s"
)


def start_server() -> tuple[subprocess.Popen[str], str, dict[str, object]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--clock", "frozen", "--print-tenant"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    url = first.split(" on ", 1)[1].split()[0]
    lines: list[str] = []
    while not lines or lines[-1] != "}\n":
        line = process.stdout.readline()
        if not line:
            raise SystemExit(f"serve stopped before printing its tenant: {first!r}")
        if lines or line.startswith("{"):
            lines.append(line)
    return process, url, json.loads("".join(lines))


def run(url: str, tenant: dict[str, object], examples: int, only: list[str], timeout: float) -> dict[str, object]:
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "contract",
        "--base-url",
        url,
        "--api-key",
        str(tenant["api_key"]),
        "--project-id",
        str(tenant["project_id"]),
        "--max-examples",
        str(examples),
    ]
    if only:
        command += ["--only", *only]
    began = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - began
    phases = [
        {
            "phase": m[2],
            "ok": m[1] == "ok",
            "passed": int(m[3]),
            "failed": int(m[4]),
            "skipped": int(m[5]),
            "requests": int(m[6]),
            "seconds": float(m[7]),
        }
        for m in (PHASE_LINE.match(line) for line in result.stdout.splitlines())
        if m
    ]
    return {
        "examples": examples,
        "exit": result.returncode,
        "seconds": seconds,
        "phases": phases,
        "tail": result.stdout.strip().splitlines()[-1:] or result.stderr.strip().splitlines()[-1:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--only", nargs="+", default=[])
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    process, url, tenant = start_server()
    try:
        for examples in args.examples:
            outcome = run(url, tenant, examples, args.only, args.timeout)
            total = sum(int(p["requests"]) for p in outcome["phases"])  # type: ignore[union-attr,index]
            print(
                f"\n--max-examples {examples}: {outcome['seconds']:.1f} s wall, exit {outcome['exit']}, "
                f"{total} requests; {outcome['tail'][0] if outcome['tail'] else ''}"
            )  # type: ignore[index]
            for p in outcome["phases"]:  # type: ignore[attr-defined]
                print(
                    f"  {p['phase']:<13} {p['seconds']:6.1f} s  {p['requests']:>6} requests  "
                    f"{p['passed']} passed, {p['failed']} failed, {p['skipped']} skipped"
                )
    finally:
        process.terminate()
        process.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
