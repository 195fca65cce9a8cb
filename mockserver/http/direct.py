"""A faster in-process client: requests go straight into the WSGI app, with no socket and no test client.

werkzeug's test ``Client`` is what most suites reach for, and it is convenient; it also costs
about as much per request as the fake itself (building the environ with ``EnvironBuilder``,
wrapping the answer in a ``TestResponse``). :class:`DirectClient` builds the WSGI environ
by hand and hands back status, headers and bytes: the same fake, the same answers, for
suites that send many requests.

>>> from mockserver import MockServer
>>> server = MockServer()
>>> tenant = server.store.create_tenant()
>>> client = DirectClient(server, api_key=tenant.api_key)
>>> created = client.post(f"/api/projects/{tenant.project_id}/batch_exports/",
...                       json={"name": "x", "interval": "hour", "destination": {"type": "NoOp", "config": {}}})
>>> created.status, client.get(f"/api/projects/{tenant.project_id}/batch_exports/").json()["count"]
(201, 1)
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlencode

import orjson

__all__ = ["DirectClient", "DirectResponse"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DirectResponse(NamedTuple):
    """What the app answered: status code, headers and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return orjson.loads(self.body)

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), if any."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


class DirectClient:
    """Calls a WSGI app (a :class:`~mockserver.http.app.MockServer`) as a server would, without one.

    Args:
        app: the WSGI app.
        api_key: sent as ``Authorization: Bearer …`` unless a request gives its own.
        host: the ``Host`` the requests claim (it shapes ``next``/``previous`` links).
    """

    def __init__(self, app: WSGIApp, *, api_key: str | None = None, host: str = "localhost") -> None:
        self.app = app
        self.api_key = api_key
        self.host = host

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | str | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> DirectResponse:
        """One request. ``json`` is encoded (``Content-Type: application/json``); ``data`` is sent as it is."""
        path, _, query_string = path.partition("?")
        if query is not None:
            query_string = query if isinstance(query, str) else urlencode(query, doseq=True)
        body = orjson.dumps(json) if json is not None else (data or b"")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method.upper(),
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query_string,
            "SERVER_NAME": self.host,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self.host,
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if body or json is not None:
            environ["CONTENT_LENGTH"] = str(len(body))
        if json is not None:
            environ["CONTENT_TYPE"] = "application/json"
        if self.api_key is not None:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.api_key}"
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
        answer: list[Any] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer[:] = [int(status[:3]), list(response_headers)]

        chunks = self.app(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return DirectResponse(answer[0], answer[1], content)

    def get(self, path: str, **kwargs: Any) -> DirectResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> DirectResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> DirectResponse:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> DirectResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> DirectResponse:
        return self.request("DELETE", path, **kwargs)
