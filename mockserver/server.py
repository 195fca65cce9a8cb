"""Serve a :class:`~mockserver.http.app.MockServer` on a real port, in a background thread.

>>> from mockserver import MockServer
>>> with ServerThread(MockServer()) as running:
...     running.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

# Imported now, never lazily: the thread that waits for granian's port resolves its host,
# and Python imports the IDNA codec on a process's first name lookup. granian forks its
# worker meanwhile; a fork in the middle of that import left the worker's lock on the
# module held by a thread the worker does not have, so the worker's first import of it
# (openapi-core's, on the first request it judges) waited forever, holding the store's lock.
import encodings.idna  # noqa: F401
import gc
import importlib.util
import itertools
import multiprocessing
import socket
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from mockserver.clock import wall_seconds
from mockserver.http.app import MockServer
from mockserver.http.body import DEFAULT_READ_TIMEOUT, READ_INLINE
from mockserver.http.journal import scrub_query

#: Any WSGI application (the fake, or the benchmark's trivial ceiling app).
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

__all__ = [
    "GRACE_SECONDS",
    "IDLE_SECONDS",
    "MAX_CONNECTIONS",
    "AccessLog",
    "CannotListen",
    "FrozenHeap",
    "QuietHandler",
    "ServerThread",
    "free_port",
    "granian_available",
    "reserve_port",
    "serve_granian",
]

#: How long a stopping server lets requests in flight finish before it exits anyway.
GRACE_SECONDS = 5.0
#: How long a connection may stay open without sending a request (granian; werkzeug's
#: sockets time out after the body timeout, the same 10 s by default).
IDLE_SECONDS = 10.0
#: Connections granian serves at once, at most (fewer if the open-files limit is low).
MAX_CONNECTIONS = 4096


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (tests make thousands)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class CannotListen(OSError):
    """The address cannot be served: the port is taken, the host is not this machine's, or
    the port is privileged. ``strerror`` says which, with the address."""

    @classmethod
    def of(cls, error: OSError, host: str, port: int) -> CannotListen:
        return cls(error.errno, f"cannot listen on {host}:{port}: {error.strerror or error}")


class _BindFailed(Exception):
    """An ``OSError`` from binding, carried past werkzeug, which prints one and exits the process."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


class _CountingServer(ThreadedWSGIServer):
    """werkzeug's threaded server, counting the connections being handled (for a graceful stop)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.in_flight = 0
        self._in_flight_lock = threading.Condition()
        try:
            super().__init__(*args, **kwargs)
        except _BindFailed as failed:
            host, port = args[0], args[1]
            raise CannotListen.of(failed.error, host, port) from None

    def server_bind(self) -> None:
        try:
            super().server_bind()
        except OSError as exc:
            raise _BindFailed(exc) from None

    def server_activate(self) -> None:
        try:
            super().server_activate()
        except OSError as exc:
            raise _BindFailed(exc) from None

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._in_flight_lock:
            self.in_flight += 1
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._in_flight_lock:
                self.in_flight -= 1
                self._in_flight_lock.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no connection is being handled, at most ``timeout`` seconds."""
        with self._in_flight_lock:
            return self._in_flight_lock.wait_for(lambda: self.in_flight == 0, timeout)


class ServerThread:
    """werkzeug's threaded server on ``host:port`` (port 0 = any free port).

    The constructor binds, so the port accepts connections (they wait in the backlog)
    before the thread even starts: no readiness race, and :attr:`port` is the bound one.
    An address that cannot be had raises :class:`CannotListen`; a port out of range,
    ``OverflowError``.
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
        base = QuietHandler if quiet else WSGIRequestHandler
        # Every socket read and write times out (socketserver applies ``timeout``): a client
        # that stops sending its body or reading its answer frees its thread.
        timeout = app.body_limits.timeout if isinstance(app, MockServer) else DEFAULT_READ_TIMEOUT
        handler = type(base.__name__, (base,), {"timeout": timeout})
        # ``wsgi``: what actually answers, when ``app`` is wrapped (``serve`` adds FrozenHeap).
        served = wsgi or app
        self.server = _CountingServer(host, port, served, handler)
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

    def stop(self, grace: float = GRACE_SECONDS) -> bool:
        """Stop accepting, let requests in flight finish (at most ``grace`` seconds), close.

        Returns whether every request in flight finished in time.
        """
        self.server.shutdown()
        finished = self.server.wait_idle(grace)
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return finished

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
    them would be kept. It also freezes between the steps of a long clock jump, which
    creates many records without a request in between. Used by ``serve`` only: a library must not change the GC of the
    test process it runs in.
    """

    def __init__(self, app: WSGIApp, every: int = 5000) -> None:
        self.app = app
        self.every = every
        self._count = itertools.count(1)
        from mockserver.http.app import MockServer

        if isinstance(app, MockServer):
            # A clock jump of years creates millions of records between two requests:
            # freezing between its steps keeps each collection to what the last step made.
            app.backend.engine.between_steps.append(gc.freeze)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if next(self._count) % self.every == 0:
            gc.collect()
            gc.freeze()
        return self.app(environ, start_response)


class AccessLog:
    """WSGI wrapper writing one line per request in the Common Log Format (as Apache, nginx).

    ``127.0.0.1 - - [02/Dec/2026:13:36:05 +0000] "GET /api/projects/1/batch_exports/ HTTP/1.1" 200 52``

    A wrapper rather than a server feature, so both servers of ``serve`` log alike. The
    timestamp is the wall clock's (when the request was answered), not the fake's.
    """

    def __init__(self, app: WSGIApp, write: Callable[[str], Any]) -> None:
        self.app = app
        self.write = write

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen: dict[str, str] = {}

        def recording_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, *args)

        try:
            body = list(self.app(environ, recording_start_response))
        except ConnectionError:
            self._line(environ, "-", "-")  # a planned drop: no status was ever sent
            raise
        self._line(environ, seen.get("status", "-"), str(sum(len(b) for b in body)) if body else "-")
        return body

    def _line(self, environ: dict[str, Any], status: str, size: str) -> None:
        from mockserver.clock import wall_now

        query = scrub_query(environ.get("QUERY_STRING") or "")  # a key in the query: its prefix only
        target = environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")
        request = f"{environ.get('REQUEST_METHOD', '-')} {target} {environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}"
        # One line per request, whatever the client sent: control characters, quotes and
        # bytes past ASCII (the path arrives decoded as ISO-8859-1) are escaped, as nginx does.
        request = request.translate(_LOG_ESCAPES)
        when = wall_now().strftime("%d/%b/%Y:%H:%M:%S +0000")
        self.write(f'{environ.get("REMOTE_ADDR", "-")} - - [{when}] "{request}" {status} {size}\n')


#: Access-log escapes: ``\xHH`` for control characters, ``"``, ``\`` and bytes past ASCII.
_LOG_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x22, 0x5C, *range(0x7F, 0x100))}


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for servers that cannot report the one they got)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def reserve_port(host: str, port: int) -> socket.socket | None:
    """Bind ``host:port`` (0: any free port) without listening, sharing it (``SO_REUSEPORT``).

    granian binds in its worker process, later; holding the port meanwhile means that the
    port reported is the port served, and nobody else takes it in between. The socket
    never listens, so no connection reaches it. ``None`` where ports cannot be shared.

    A port some other process serves is refused (:class:`CannotListen`) first: granian
    shares ports too, so a second fake would otherwise start on the first one's port and
    the kernel would deal the connections out between the two.
    """
    if not hasattr(socket, "SO_REUSEPORT"):
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if port != 0:
        # Without SO_REUSEPORT this bind fails wherever the port is taken, by a listener
        # that shares it or not; SO_REUSEADDR lets closed connections' TIME_WAIT pass.
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CannotListen.of(exc, host, port) from None
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((host, port))
    except OSError as exc:
        holder.close()
        raise CannotListen.of(exc, host, port) from None
    return holder


def wait_until_listening(host: str, port: int, timeout: float) -> bool:
    """Whether ``host:port`` accepts a connection within ``timeout`` seconds."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    deadline = wall_seconds() + timeout
    while True:
        try:
            with socket.create_connection((target, port), timeout=1):
                return True
        except OSError:
            if wall_seconds() > deadline:
                return False
            threading.Event().wait(0.01)


def _connection_slots() -> int:
    """How many connections granian may hold: :data:`MAX_CONNECTIONS`, within the open-files limit.

    The soft limit is raised towards the hard one first (often 1024 soft by default).
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_CONNECTIONS + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):
            pass
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(64, min(MAX_CONNECTIONS, soft - 256))


class _OnGranian:
    """The app as granian needs it: bodies read on the request's thread, drops as granian can do them.

    granian has no read timeout, and stops serving every connection when a request is
    answered while another thread still waits on its body: ``read_body`` therefore reads
    on the request's own thread here (:data:`~mockserver.http.body.READ_INLINE`).

    A planned drop (a ``ConnectionError`` from the app):

    werkzeug's server closes the connection unanswered when the app raises; granian
    answers any exception with a 500 and has no way to close a connection unanswered:
    it sends the status line and headers before it asks for the body, whatever the app
    does (tried: no ``start_response``, a ``Content-Length``), and its environ has no
    ``REMOTE_PORT`` to find the socket by. A body that fails at once makes it close the
    connection mid-body, after a 503's headers: clients that read the body get no answer
    (curl a partial reply, httpx ``RemoteProtocolError``, requests
    ``ChunkedEncodingError``); one that acts on the status first (``urllib``) sees a 503.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[READ_INLINE] = True
        try:
            return self.app(environ, start_response)
        except ConnectionError as drop:
            start_response("503 Service Unavailable", [])
            return _FailingBody(drop)


class _FailingBody:
    """A response body whose first chunk raises ``drop``."""

    def __init__(self, drop: ConnectionError) -> None:
        self.drop = drop

    def __iter__(self) -> _FailingBody:
        return self

    def __next__(self) -> bytes:
        raise self.drop

    def close(self) -> None:
        """Nothing to release (granian calls it after the failed iteration)."""


def granian_available() -> bool:
    return importlib.util.find_spec("granian") is not None


def serve_granian(
    app: WSGIApp,
    host: str,
    port: int,
    *,
    threads: int = 32,
    access_log: bool = False,
    on_ready: Callable[[int], None] | None = None,
    grace: float = GRACE_SECONDS,
    warm_up: Callable[[], None] | None = None,
) -> None:
    """Serve ``app`` with granian (Rust HTTP, keep-alive) until SIGTERM or Ctrl-C.

    One worker process holds all state: granian forks it from this process, so the
    worker starts with ``app`` already built (and any tenant already created) instead of
    importing and rebuilding it. Several workers would each have their own store, so
    there is exactly one. Its ``threads`` run requests; the store's lock lets one at a
    time touch state, while planned latency waits outside it.

    ``on_ready(port)`` is called once the port accepts connections (``port`` 0 is
    resolved first). ``warm_up()`` runs on a background thread of the worker, which holds
    the state, as soon as it has loaded the app. On a signal, requests in flight get ``grace`` seconds to finish.

    Connections: granian serves at most ``backpressure`` connections at once, idle ones
    included; the rest wait in the kernel's backlog. HTTP/1.1 only, so that the header
    timeout covers a connection from its first moment: one that sends no request (or
    no further request on keep-alive) within :data:`IDLE_SECONDS` is closed. Idle
    connections therefore cannot hold the slots for long, and there are thousands of
    slots (the open-files limit is raised to fit): a thousand idle connections lock
    nobody out.
    """
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    holder = reserve_port(host, port)
    if holder is not None:
        port = holder.getsockname()[1]
    elif port == 0:
        port = free_port(host)

    def announce() -> None:
        if wait_until_listening(host, port, timeout=30):
            if holder is not None:
                holder.close()
            if on_ready is not None:
                on_ready(port)

    # The worker must inherit the built app: fork, whatever the platform default is.
    multiprocessing.set_start_method("fork", force=True)
    server = Granian(
        "mockserver:app",  # only a label: the loader below hands over the app itself
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=threads,
        http=HTTPModes.http1,
        backpressure=_connection_slots(),
        http1_settings=HTTP1Settings(header_read_timeout=int(IDLE_SECONDS * 1000), keep_alive=True),
        workers_kill_timeout=max(1, round(grace)),
        log_enabled=access_log,
        log_access=access_log,
    )
    threading.Thread(target=announce, name="mockserver-ready", daemon=True).start()

    def load(_target: str) -> WSGIApp:
        if warm_up is not None:  # in the worker: a thread of the parent would not survive the fork
            threading.Thread(target=warm_up, name="mockserver-warm-up", daemon=True).start()
        return _OnGranian(app)

    server.serve(target_loader=load)
