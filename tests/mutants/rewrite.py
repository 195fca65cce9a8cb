"""A WSGI wrapper that lets a mutant change what the fake says, one API response at a time.

:class:`Rewrite` sits in front of a :class:`~mockserver.MockServer`: every request still
reaches the fake, and the fake still keeps its state right; only the answer a client
sees is altered, by the :meth:`Rewrite.answer` of a subclass. Requests to the control
plane (``/_mock/``) pass through untouched, because the contract suite relies on it for
tenants, keys and the clock, and a mutant must break the API, not the harness.

>>> from werkzeug.test import Client
>>> class Teapot(Rewrite):
...     def answer(self, request, response):
...         response.status = 418
>>> client = Client(Teapot())
>>> client.get("/api/projects/1/batch_exports/").status_code
418
>>> client.get("/_mock/clock/").status_code
200
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from mockserver import MockServer

__all__ = ["Answer", "Rewrite", "is_export_list", "is_export_path"]


@dataclass
class Answer:
    """The fake's answer, open to change: a mutant sets ``status`` or edits ``json`` in place."""

    status: int
    headers: list[tuple[str, str]]
    #: The decoded body (``None`` when it is empty or not JSON); changes to it are sent.
    json: Any
    raw: bytes

    def encode(self) -> bytes:
        return self.raw if self.json is None else json.dumps(self.json).encode()


class Rewrite:
    """Forward to the fake, then let :meth:`answer` change the response of an API request.

    Args:
        server: the fake being broken (a new one by default).
    """

    def __init__(self, server: MockServer | None = None) -> None:
        self.server = server or MockServer()

    def before(self, request: Request) -> None:
        """Change the request's WSGI environ before the fake sees it (nothing, by default)."""

    def answer(self, request: Request, response: Answer) -> None:
        """Change ``response`` in place (nothing, by default)."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_mock/"):
            return self.server(environ, start_response)
        request = Request(environ)
        self.before(request)
        seen: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            seen["status"], seen["headers"] = int(status.split()[0]), headers

        raw = b"".join(self.server(environ, keep))
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            decoded = None
        response = Answer(seen["status"], list(seen["headers"]), decoded, raw)
        self.answer(request, response)
        body = response.encode()
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
        if response.status != 204:
            headers.append(("Content-Length", str(len(body))))
        start_response(f"{response.status} {HTTP_STATUS_CODES.get(response.status, 'UNKNOWN')}", headers)
        return [body]


def is_export_list(request: Request) -> bool:
    """A GET of a list of batch exports (project, environment or organization level)."""
    return request.method == "GET" and request.path.rstrip("/").endswith("/batch_exports")


def is_export_path(request: Request) -> bool:
    """A request about one batch export: ``…/batch_exports/<id>/`` and its actions."""
    parts = request.path.strip("/").split("/")
    return len(parts) >= 5 and parts[3] == "batch_exports"
