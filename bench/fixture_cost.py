"""Per-test fixture cost as pytest sees it: ``posthog_mock`` against no fixture at all.

Writes a throwaway test directory (in a temp dir, outside the repository) holding N tests
that take ``posthog_mock`` and N that take nothing, plus a conftest whose hook wrappers
time each test's setup and teardown. The cost of the fixture is the difference of the
medians of setup+teardown; the first ``posthog_mock`` test also pays the session server
and the last one its shutdown: both are reported on their own.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from common import PY, SERVER_CORE, pinned

CONFTEST = """
import json, os, time
import pytest

PHASES = {}

def _timed(phase):
    @pytest.hookimpl(hookwrapper=True)
    def hook(item, *args):
        start = time.perf_counter()
        yield
        PHASES.setdefault(item.nodeid, {})[phase] = time.perf_counter() - start
    return hook

pytest_runtest_setup = _timed("setup")
pytest_runtest_teardown = _timed("teardown")

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_FIXTURE_OUT"], "w") as fh:
        json.dump(PHASES, fh)
"""

TESTS = """
import pytest

N = {n}

@pytest.mark.parametrize("i", range(N))
def test_plain(i):
    assert i >= 0

@pytest.mark.parametrize("i", range(N))
def test_posthog_mock(posthog_mock, i):
    assert posthog_mock.api_key
"""


def measure(n: int, timeout_s: float = 300) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fixture-") as tmp:
        root = Path(tmp)
        (root / "conftest.py").write_text(textwrap.dedent(CONFTEST))
        (root / "test_fixture_cost.py").write_text(textwrap.dedent(TESTS.format(n=n)))
        out = root / "phases.json"
        env = {**os.environ, "BENCH_FIXTURE_OUT": str(out)}
        argv = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", tmp, tmp]
        started = time.perf_counter()
        proc = subprocess.run(
            pinned(SERVER_CORE, argv), cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"pytest exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
        phases: dict[str, dict[str, float]] = json.loads(out.read_text())
    plain = [p["setup"] + p["teardown"] for k, p in phases.items() if "test_plain" in k]
    mocked_ids = [k for k in phases if "test_posthog_mock" in k]
    first, last = phases[mocked_ids[0]], phases[mocked_ids[-1]]
    # the first test starts the session server, the last one stops it: both reported apart
    mocked = [phases[k]["setup"] + phases[k]["teardown"] for k in mocked_ids[1:-1]]
    plain_us = statistics.median(plain) * 1e6
    mocked_us = statistics.median(mocked) * 1e6
    return {
        "tests_each": n,
        "pytest_wall_s": wall,
        "plain_setup_teardown_us": plain_us,
        "posthog_mock_setup_teardown_us": mocked_us,
        "fixture_cost_us": mocked_us - plain_us,
        "posthog_mock_p99_us": sorted(mocked)[int(0.99 * (len(mocked) - 1))] * 1e6 if mocked else float("nan"),
        "first_test_with_session_server_ms": (first["setup"] + first["teardown"]) * 1e3,
        "last_test_with_session_stop_ms": (last["setup"] + last["teardown"]) * 1e3,
    }
