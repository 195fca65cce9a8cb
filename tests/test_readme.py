"""The README's examples, run as they stand: the curl walkthrough and every Python snippet."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mockserver import MockServer
from mockserver.clock import DEFAULT_EPOCH, Clock
from mockserver.server import ServerThread

README = (Path(__file__).parent.parent / "README.md").read_text()
pytest_plugins = ["pytester"]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
@pytest.mark.parametrize(
    "start",
    [
        DEFAULT_EPOCH,
        datetime(2025, 6, 1, 0, 0, 30, tzinfo=UTC),  # before the old hard-coded backfill, first minute of an hour
        datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC),  # a year's last second
    ],
    ids=["default", "early-first-minute", "late-last-second"],
)
def test_the_curl_walkthrough_runs_whatever_the_clock_says(start: datetime) -> None:
    (script,) = blocks("bash")
    with ServerThread(MockServer(strict=True, clock=Clock.frozen(start))) as running:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={"BASE": running.url, "PATH": "/usr/bin:/bin:/usr/local/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert not running.app.errors
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        '{"type":"validation_error","code":"invalid_choice","detail":"\\"monthly\\" is not a valid choice.",'
        '"attr":"interval"}',
        "Completed",  # the oldest of the day's 24 runs
        "{'total_runs': 3, 'finished_runs': 3, 'progress': 1.0}",
        '{"paused":true}',
        "2",
    ]


@pytest.mark.parametrize("index", range(4))
def test_the_plugin_examples_pass(pytester: pytest.Pytester, index: int) -> None:
    examples = [b for b in blocks("python") if "def test_" in b]
    assert len(examples) == 4
    pytester.makepyfile(**{f"test_example_{index}": examples[index]})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--posthog-mock-strict")
    result.assert_outcomes(passed=examples[index].count("def test_"))


def test_the_in_process_example_runs() -> None:
    example = next(b for b in blocks("python") if "werkzeug.test" in b)
    exec(compile(example, "README.md", "exec"), {})
