"""Per-test overhead of the plugin's three ways to get a fake, as pytest sees it.

    .venv/bin/python bench/plugin_overhead.py [--tests 300] [--scenario-tests 30]

Writes a throwaway suite (in a temp dir) whose tests do nothing but take ``posthog_mock``
in one way each, plus a conftest that times every test's setup and teardown; the
overhead of a way is the median of its setup+teardown minus that of a test with no
fixture. The first test of each way is left out of the median (it pays one-off costs:
the session server, the first private fake's imports) and reported on its own.

* ``shared``: a tenant on the session's server (the default);
* ``private``: ``@pytest.mark.posthog_mock(clock="private")``, a fake in process;
* ``scenario:<name>``: a private fake with a shipped scenario loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

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
    with open(os.environ["BENCH_PLUGIN_OUT"], "w") as fh:
        json.dump(PHASES, fh)
"""

TESTS = """
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_plain(i):
    assert i >= 0

@pytest.mark.parametrize("i", range({n}))
def test_shared(posthog_mock, i):
    assert posthog_mock.api_key

@pytest.mark.parametrize("i", range({n}))
@pytest.mark.posthog_mock(clock="private")
def test_private(posthog_mock, i):
    assert posthog_mock.api_key
"""

SCENARIO_TEST = """
@pytest.mark.parametrize("i", range({n}))
@pytest.mark.posthog_mock(clock="private", scenario={name!r})
def test_scenario_{ident}(posthog_mock, i):
    assert posthog_mock.scenario is not None
"""


def run(n: int, scenario_n: int) -> dict[str, Any]:
    from mockserver.fixtures import shipped_scenarios

    names = sorted(shipped_scenarios())
    with tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp:
        root = Path(tmp)
        (root / "conftest.py").write_text(textwrap.dedent(CONFTEST))
        source = textwrap.dedent(TESTS.format(n=n)) + "".join(
            textwrap.dedent(SCENARIO_TEST.format(n=scenario_n, name=name, ident=name.replace("-", "_")))
            for name in names
        )
        (root / "test_overhead.py").write_text(source)
        out = root / "phases.json"
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", tmp, tmp]
        proc = subprocess.run(argv, cwd=tmp, env={**os.environ, "BENCH_PLUGIN_OUT": str(out)},
                              capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"pytest exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
        phases: dict[str, dict[str, float]] = json.loads(out.read_text())

    def costs(prefix: str) -> list[float]:
        return [p["setup"] + p["teardown"] for k, p in phases.items() if k.split("::")[1].startswith(prefix + "[")]

    plain = statistics.median(costs("test_plain")[1:])
    results: dict[str, Any] = {"tests_each": n, "scenario_tests_each": scenario_n, "plain_us": plain * 1e6}
    ways = [("shared", "test_shared"), ("private", "test_private")] + [
        (f"scenario:{name}", f"test_scenario_{name.replace('-', '_')}") for name in names
    ]
    for way, prefix in ways:
        samples = costs(prefix)
        rest = sorted(samples[1:])
        results[way] = {
            "overhead_median_us": (statistics.median(rest) - plain) * 1e6,
            "overhead_p95_us": (rest[int(0.95 * (len(rest) - 1))] - plain) * 1e6,
            "first_ms": samples[0] * 1e3,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=300, help="tests per way (plain, shared, private)")
    parser.add_argument("--scenario-tests", type=int, default=30, help="tests per shipped scenario")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    results = run(args.tests, args.scenario_tests)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"per-test overhead over a test without fixture (its setup+teardown: {results['plain_us']:.0f} µs)")
    print(f"{'way':34} {'median':>10} {'p95':>10} {'first test':>12}")
    for way, figures in results.items():
        if isinstance(figures, dict):
            print(f"{way:34} {figures['overhead_median_us']:>8.0f}µs {figures['overhead_p95_us']:>8.0f}µs "
                  f"{figures['first_ms']:>10.1f}ms")  # fmt: skip


if __name__ == "__main__":
    main()
