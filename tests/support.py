"""Helpers the tests share: a client bound to one tenant, and PostHog's error body.

A plain module (not ``conftest.py``) so that tests import it by name under any pytest
import mode: ``tests/`` is on ``pythonpath`` (``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.test import Client, TestResponse

from mockserver import MockServer, Tenant

__all__ = ["Api", "JsonResponse", "call", "error", "werkzeug_client", "without_control_plane"]


class JsonResponse(TestResponse):
    """werkzeug's test response, with ``json`` typed as the JSON value a test reads from it."""

    @property
    def json(self) -> Any:
        """The body parsed as JSON (``None`` when the response is not JSON)."""
        return super().json


def werkzeug_client(server: MockServer) -> Client:
    """werkzeug's test client as the tests use it: no cookie jar.

    The API authenticates by key and never sets a cookie; a jar would only rebuild the
    request's URL twice per request to look for cookies (a fifth of a request's time).
    """
    return Client(server, response_wrapper=JsonResponse, use_cookies=False)


class Api:
    """A werkzeug test client that speaks for one tenant: ``api.get("/batch_exports/")``.

    Paths not starting with ``/api`` or ``/_mock`` are relative to the tenant's project
    (``/api/projects/{id}``); ``headers`` defaults to the tenant's key.
    """

    def __init__(self, server: MockServer, tenant: Tenant) -> None:
        self.server = server
        self.tenant = tenant
        self.client = werkzeug_client(server)

    @property
    def prefix(self) -> str:
        return f"/api/projects/{self.tenant.project_id}"

    def url(self, path: str) -> str:
        return path if path.startswith(("/api", "/_mock")) else self.prefix + path

    def request(self, method: str, path: str, **kwargs: Any) -> JsonResponse:
        kwargs.setdefault("headers", {"Authorization": f"Bearer {self.tenant.api_key}"})
        response = self.client.open(self.url(path), method=method, **kwargs)
        assert isinstance(response, JsonResponse)  # the client's response_wrapper
        return response

    def get(self, path: str, **kwargs: Any) -> JsonResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> JsonResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> JsonResponse:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> JsonResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> JsonResponse:
        return self.request("DELETE", path, **kwargs)

    def create_export(self, **overrides: Any) -> dict[str, Any]:
        """Create a valid export (NoOp destination unless overridden) and return its body."""
        body = {"name": "my export", "interval": "hour", "destination": {"type": "NoOp", "config": {}}, **overrides}
        response = self.post("/batch_exports/", json=body)
        assert response.status_code == 201, response.json
        created: dict[str, Any] = response.json
        return created

    def integration(self, kind: str) -> int:
        return int(next(i["id"] for i in self.tenant.integrations if i["kind"] == kind))


def call(server: MockServer, method: str, path: str, **kwargs: Any) -> JsonResponse:
    """One request with no credentials (as the ``/_mock/`` control plane is called)."""
    response = werkzeug_client(server).open(path, method=method, **kwargs)
    assert isinstance(response, JsonResponse)
    return response


def error(code: str, detail: str, attr: str | None = None, type: str = "validation_error") -> dict[str, Any]:
    """PostHog's error body, for exact comparisons."""
    return {"type": type, "code": code, "detail": detail, "attr": attr}


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def without_control_plane(app: WSGIApp) -> WSGIApp:
    """The fake as a real PostHog looks to the contract suite: no ``/_mock/`` routes."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"].startswith("/_mock/"):
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"type":"invalid_request","code":"not_found","detail":"Not found.","attr":null}']
        return app(environ, start_response)

    return wsgi
