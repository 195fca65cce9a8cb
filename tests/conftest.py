"""Shared fixtures: an in-process fake in strict mode and a client bound to one tenant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from mockserver import MockServer, Tenant


class Api:
    """A werkzeug test client that speaks for one tenant: ``api.get("/batch_exports/")``.

    Paths not starting with ``/api`` or ``/_mock`` are relative to the tenant's project
    (``/api/projects/{id}``); ``headers`` defaults to the tenant's key.
    """

    def __init__(self, server: MockServer, tenant: Tenant) -> None:
        self.server = server
        self.tenant = tenant
        self.client = Client(server)

    @property
    def prefix(self) -> str:
        return f"/api/projects/{self.tenant.project_id}"

    def url(self, path: str) -> str:
        return path if path.startswith(("/api", "/_mock")) else self.prefix + path

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("headers", {"Authorization": f"Bearer {self.tenant.api_key}"})
        return self.client.open(self.url(path), method=method, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", path, **kwargs)

    def create_export(self, **overrides: Any) -> dict[str, Any]:
        """Create a valid export (NoOp destination unless overridden) and return its body."""
        body = {"name": "my export", "interval": "hour", "destination": {"type": "NoOp", "config": {}}, **overrides}
        response = self.post("/batch_exports/", json=body)
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]

    def integration(self, kind: str) -> int:
        return next(i["id"] for i in self.tenant.integrations if i["kind"] == kind)


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A fresh in-process fake that checks every response against the spec."""
    app = MockServer(strict=True)
    yield app
    assert not app.errors, app.errors


@pytest.fixture
def tenant(server: MockServer) -> Tenant:
    return server.store.create_tenant()


@pytest.fixture
def api(server: MockServer, tenant: Tenant) -> Api:
    return Api(server, tenant)


def error(code: str, detail: str, attr: str | None = None, type: str = "validation_error") -> dict[str, Any]:
    """PostHog's error body, for exact comparisons."""
    return {"type": type, "code": code, "detail": detail, "attr": attr}
