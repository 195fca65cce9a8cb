"""Serve a :class:`~mockserver.http.app.MockServer` on a real port, in a background thread.

>>> from mockserver import MockServer
>>> with ServerThread(MockServer()) as running:
...     running.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mockserver.http.app import MockServer

__all__ = ["QuietHandler", "ServerThread"]


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (tests make thousands)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class ServerThread:
    """werkzeug's threaded server on ``host:port`` (port 0 = any free port).

    ``make_server`` binds in its constructor, so the port accepts connections (they
    wait in the backlog) before the thread even starts: no readiness race.
    """

    def __init__(self, app: MockServer, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        self.app = app
        handler = QuietHandler if quiet else WSGIRequestHandler
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=handler)
        self.host = host
        self.port = self.server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="mockserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
