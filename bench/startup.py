"""Start-up time: from spawning ``python -m mockserver serve`` to its first HTTP answer.

Each run spawns the CLI on a fresh port (pinned to the server core), polls the port every
2 ms with a tiny HTTP request until anything answers, then stops the process. For scale:
a bare interpreter (``python -c pass``) and the import of the CLI module alone.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

from common import (
    OUT_DIR,
    PY,
    SERVER_CORE,
    code_root,
    free_port,
    pinned,
    stop_process,
    summarize_us,
    wait_until_answers,
)
from targets import fake_argv


def _serve_once(server: str) -> float:
    port = free_port()
    OUT_DIR.mkdir(exist_ok=True)
    with (OUT_DIR / "startup.log").open("wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            pinned(SERVER_CORE, fake_argv(port, server)), stdout=log, stderr=subprocess.STDOUT, cwd=code_root()
        )
        try:
            if wait_until_answers(port, 30, proc) is None:
                raise RuntimeError(f"serve did not answer within 30 s (see {OUT_DIR / 'startup.log'})")
            return time.perf_counter() - started
        finally:
            stop_process(proc)


def _run_once(code: str) -> float:
    started = time.perf_counter()
    subprocess.run(pinned(SERVER_CORE, [PY, "-c", code]), cwd=code_root(), check=True, timeout=60)
    return time.perf_counter() - started


def import_breakdown(module: str = "mockserver.cli", top: int = 12) -> list[dict[str, Any]]:
    """``python -X importtime``: self time summed per top-level package, largest first (ms)."""
    proc = subprocess.run(
        pinned(SERVER_CORE, [PY, "-X", "importtime", "-c", f"import {module}"]),
        cwd=code_root(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    per_package: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        root = name.split(".")[0]
        per_package[root] = per_package.get(root, 0.0) + int(self_us) / 1000
    ranked = sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:top]
    return [{"package": name, "self_ms": round(ms, 1)} for name, ms in ranked]


def _ms(samples_us: list[float]) -> dict[str, float]:
    stats = summarize_us(samples_us)
    return {"p50": stats["p50"] / 1000, "min": stats["min"] / 1000, "mean": stats["mean"] / 1000}


def measure(repeats: int, server: str) -> dict[str, Any]:
    # Warm the OS file cache, the .pyc files and the spec's JSON copy first (a user's first
    # start after an install or an edit of the spec pays for these once).
    _run_once("import mockserver.cli; from mockserver.http.spec import load_spec; load_spec()")
    serve = [_serve_once(server) * 1e6 for _ in range(repeats)]
    bare = [_run_once("pass") * 1e6 for _ in range(repeats)]
    imports = [_run_once("import mockserver.cli") * 1e6 for _ in range(repeats)]
    return {
        "repeats": repeats,
        "serve_ms": _ms(serve),
        "python_bare_ms": _ms(bare),
        "import_cli_ms": _ms(imports),
        "import_self_time_by_package": import_breakdown(),
    }
