"""The README's examples, run as they stand: the curl walkthrough and both Python snippets."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mockserver import MockServer
from mockserver.server import ServerThread

README = (Path(__file__).parent.parent / "README.md").read_text()
pytest_plugins = ["pytester"]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_curl_walkthrough_runs_against_a_served_fake() -> None:
    (script,) = blocks("bash")
    with ServerThread(MockServer(strict=True)) as running:
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
        '{"now":"2026-01-06T12:00:00Z"}',
        "Starting",  # the run created at this very instant; the 23 before it completed
        '{"now":"2026-01-06T12:10:00Z"}',
        "{'total_runs': 3, 'finished_runs': 3, 'progress': 1.0}",
        '{"paused":true}',
        "2",
    ]


def test_the_pytest_plugin_example_passes(pytester: pytest.Pytester) -> None:
    example = next(b for b in blocks("python") if "posthog_mock" in b)
    pytester.makepyfile(test_example=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--posthog-mock-strict")
    result.assert_outcomes(passed=1)


def test_the_in_process_example_runs() -> None:
    example = next(b for b in blocks("python") if "werkzeug.test" in b)
    exec(compile(example, "README.md", "exec"), {})
