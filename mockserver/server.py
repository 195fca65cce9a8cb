"""Serve a :class:`~mockserver.http.app.MockServer` on a real port, in a background thread.

>>> from mockserver import MockServer
>>> with ServerThread(MockServer()) as running:
...     running.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import gc
import importlib.util
import itertools
import multiprocessing
import socket
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mockserver.http.app import MockServer

#: Any WSGI application (the fake, or the benchmark's trivial ceiling app).
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

__all__ = ["FrozenHeap", "QuietHandler", "ServerThread", "free_port", "granian_available", "serve_granian"]


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (tests make thousands)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class ServerThread:
    """werkzeug's threaded server on ``host:port`` (port 0 = any free port).

    ``make_server`` binds in its constructor, so the port accepts connections (they
    wait in the backlog) before the thread even starts: no readiness race.
    """

    def __init__(
        self,
        app: MockServer,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = True,
        wsgi: WSGIApp | None = None,
    ) -> None:
        self.app = app
        handler = QuietHandler if quiet else WSGIRequestHandler
        # ``wsgi``: what actually answers, when ``app`` is wrapped (``serve`` adds FrozenHeap).
        served = wsgi or app
        self.server: BaseWSGIServer = make_server(host, port, served, threaded=True, request_handler=handler)
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


class FrozenHeap:
    """WSGI wrapper for a long-running ``serve``: keeps garbage-collection pauses short.

    The store only grows (exports, runs, log lines), and CPython's full collections scan
    all of it: under a create-heavy load the p99 latency climbed to ~60 ms. Every
    ``every`` requests this collects once and then freezes what survived (``gc.freeze``),
    so later collections scan only what came since. Measured with POST create at 8
    connections for 15 s: p99 63 ms → 4.5 ms at the same throughput. Frozen objects are
    still freed by reference counting (the store holds no cycles); only a cycle among
    them would be kept. Used by ``serve`` only: a library must not change the GC of the
    test process it runs in.
    """

    def __init__(self, app: WSGIApp, every: int = 5000) -> None:
        self.app = app
        self.every = every
        self._count = itertools.count(1)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if next(self._count) % self.every == 0:
            gc.collect()
            gc.freeze()
        return self.app(environ, start_response)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for servers that cannot report the one they got)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def granian_available() -> bool:
    return importlib.util.find_spec("granian") is not None


def serve_granian(app: WSGIApp, host: str, port: int, *, threads: int = 8, access_log: bool = False) -> None:
    """Serve ``app`` with granian (Rust HTTP, keep-alive) until interrupted.

    One worker process holds all state: granian forks it from this process, so the
    worker starts with ``app`` already built (and any tenant already created) instead of
    importing and rebuilding it. Several workers would each have their own store, so
    there is exactly one. Its ``threads`` run requests; the store's lock lets one at a
    time touch state, while planned latency waits outside it.
    """
    from granian import Granian
    from granian.constants import Interfaces

    # The worker must inherit the built app: fork, whatever the platform default is.
    multiprocessing.set_start_method("fork", force=True)
    server = Granian(
        "mockserver:app",  # only a label: the loader below hands over the app itself
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=threads,
        log_enabled=access_log,
        log_access=access_log,
    )
    server.serve(target_loader=lambda _target: app)
