"""``DirectClient`` answers exactly what werkzeug's test ``Client`` gets, for less work per request."""

from __future__ import annotations

from typing import Any

from werkzeug.test import Client

from mockserver import MockServer
from mockserver.http.direct import DirectClient

EXPORT = {"name": "x", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}
#: (method, path below the project's batch exports, query, JSON body, API key given?)
REQUESTS: list[tuple[str, str, dict[str, Any] | None, Any, bool]] = [
    ("POST", "", None, EXPORT, True),
    ("POST", "", None, EXPORT, True),
    ("GET", "", {"limit": 1}, None, True),
    ("GET", "?limit=1&offset=1", None, None, True),
    ("POST", "", None, {"name": "x"}, True),
    ("GET", "", None, None, False),
    ("DELETE", "nope/", None, None, True),
]


def answers(direct: bool) -> list[tuple[int, Any, str | None]]:
    server = MockServer(seed=4, strict=True)
    tenant = server.store.create_tenant()
    base = f"/api/projects/{tenant.project_id}/batch_exports/"
    fast = DirectClient(server, api_key=tenant.api_key)
    slow = Client(server)
    seen = []
    for method, path, query, body, with_key in REQUESTS:
        key = tenant.api_key if with_key else "nope"
        if direct:
            r = fast.request(method, base + path, query=query, json=body, headers={"Authorization": f"Bearer {key}"})
            seen.append((r.status, r.json() if r.body else None, r.header("Content-Type")))
        else:
            w = slow.open(base + path, method=method, query_string=query, json=body,
                          headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            seen.append((w.status_code, w.json if w.data else None, w.headers.get("Content-Type")))
    assert not server.errors
    return seen


def test_the_direct_client_gets_the_answers_the_test_client_gets() -> None:
    direct = answers(direct=True)
    assert direct == answers(direct=False)
    assert [status for status, _, _ in direct] == [201, 201, 200, 200, 400, 401, 404]


def test_the_readme_example_runs() -> None:
    from test_readme import blocks

    example = next(b for b in blocks("python") if "DirectClient" in b)
    exec(compile(example, "README.md", "exec"), {})
