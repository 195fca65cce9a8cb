"""The page at ``/`` in a real browser: headless Chromium renders the seeded tenant.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it). Outside CI the test
skips when it is absent; in CI (``CI=true``) a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mockserver import MockServer
from mockserver.fixtures import load_scenario
from mockserver.server import ServerThread

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="headless Chromium is not installed (apt-get install chromium)",
)


def chromium(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "CI must have chromium: .ci/run installs it"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", f"--user-data-dir={home}", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(home)},
    )  # fmt: skip


def test_the_page_renders_the_seeded_tenant_in_chromium(tmp_path: Path) -> None:
    server = MockServer(strict=True)
    scenario = load_scenario("failing-snowflake", server)
    assert scenario.tenant is not None
    with ServerThread(server) as running:
        dom = chromium("--dump-dom", f"{running.url}/", home=tmp_path / "profile")
        shot = chromium(f"--screenshot={tmp_path / 'page.png'}", "--window-size=1200,900", f"{running.url}/",
                        home=tmp_path / "profile")  # fmt: skip
    assert dom.returncode == 0, dom.stderr
    assert f'<section class="tenant" id="project-{scenario.tenant.project_id}">' in dom.stdout
    assert "Events to Snowflake" in dom.stdout and scenario.exports["warehouse"]["id"] in dom.stdout
    assert dom.stdout.count('class="status Failed"') == 3
    assert shot.returncode == 0, shot.stderr
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000  # a page with content, not a blank
    assert not server.errors
