"""``python -m mockserver serve``: what ``make run`` starts."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest


@pytest.fixture
def served() -> Iterator[tuple[str, dict[str, object]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--seed", "3", "--print-tenant"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
        assert process.stdout.readline().startswith("A ready tenant")
        lines = [process.stdout.readline()]
        while lines[-1] not in ("}\n", ""):
            lines.append(process.stdout.readline())
        text = "".join(lines)
        yield url, json.loads(text)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_serve_prints_its_url_and_a_ready_tenant_that_works(served: tuple[str, dict[str, object]]) -> None:
    url, tenant = served
    assert url.startswith("http://127.0.0.1:")
    assert str(tenant["api_key"]).startswith("phx_") and tenant["project_id"] == 1
    request = urllib.request.Request(
        f"{url}/api/projects/{tenant['project_id']}/batch_exports/",
        headers={"Authorization": f"Bearer {tenant['api_key']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"count": 0, "next": None, "previous": None, "results": []}


def test_the_seed_fixes_the_tenant(served: tuple[str, dict[str, object]]) -> None:
    _, tenant = served
    from mockserver import Store

    assert Store(seed=3).create_tenant().to_dict() == tenant


def test_an_unparsable_start_time_is_refused() -> None:
    from mockserver.cli import main

    with pytest.raises(SystemExit, match="not an ISO 8601 datetime"):
        main(["serve", "--start", "tomorrow", "--port", "0"])
