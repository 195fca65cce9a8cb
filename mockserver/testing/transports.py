"""Clients that reach a fake without a socket, and the intercept of PostHog's real hosts.

Three ways to point code at an in-process :class:`~mockserver.http.app.MockServer`:

* **httpx**: ``httpx.Client(transport=HttpxTransport(server), base_url=IN_PROCESS_URL)``,
  a thin layer over httpx's own ``WSGITransport``;
* **requests**: ``session.mount(IN_PROCESS_URL, RequestsAdapter(server))``;
* **intercept**: ``with intercept(server): ...`` routes every ``requests`` and ``httpx``
  request to ``https://us.posthog.com`` or ``https://eu.posthog.com`` to the fake, so code
  with PostHog's host written into it is tested unchanged (as moto and respx do).

Planned faults behave as they would on the wire: a dropped connection raises the
client's own connection error (``requests.ConnectionError``, ``httpx.RemoteProtocolError``)
and a delay longer than the request's timeout raises its timeout error
(``requests.ReadTimeout``, ``httpx.ReadTimeout``) at once, without sleeping. Either way
the fake has already done what the request asked, as a real server would have.

Both client libraries are optional: each is imported only when a request goes through it
(the clients take these transports by duck typing, as they take their own).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder, run_wsgi_app

from mockserver.http.faults import CLIENT_TIMEOUT_KEY, ConnectionDropped, ResponseTimedOut

if TYPE_CHECKING:
    import httpx
    import requests
    from urllib3.util.retry import Retry

    from mockserver.http.app import MockServer

__all__ = [
    "IN_PROCESS_URL",
    "POSTHOG_HOSTS",
    "AsyncHttpxTransport",
    "HttpxTransport",
    "InterceptedHosts",
    "RequestsAdapter",
    "call_wsgi",
    "in_process_session",
    "intercept",
]

#: The base URL of in-process clients (no DNS lookup or socket is ever made for it).
IN_PROCESS_URL = "http://posthog.mock"
#: PostHog Cloud's hosts, routed to the fake by :func:`intercept`.
POSTHOG_HOSTS = ("us.posthog.com", "eu.posthog.com")


def call_wsgi(
    app: MockServer, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float | None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request straight into the WSGI app: ``(status, headers, body)``.

    Raises:
        ConnectionDropped: a planned fault dropped the connection.
        ResponseTimedOut: the response would come later than ``timeout`` seconds.
    """
    parts = urlsplit(url)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
        headers=list(headers.items()),
        data=body,
    )
    environ = builder.get_environ()
    if timeout is not None:
        environ[CLIENT_TIMEOUT_KEY] = timeout
    app_iter, status, response_headers = run_wsgi_app(app, environ)
    try:
        content = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return int(status.split(" ", 1)[0]), list(response_headers.items()), content


def _read_timeout(timeout: Any) -> float | None:
    """requests' ``timeout``: a number, ``(connect, read)``, a ``urllib3.Timeout`` or ``None``.

    >>> import urllib3
    >>> _read_timeout(2), _read_timeout((1, 3)), _read_timeout(urllib3.Timeout(connect=1, read=4)), _read_timeout(None)
    (2.0, 3.0, 4.0, None)
    """
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    if hasattr(timeout, "start_connect"):  # urllib3's Timeout: its read part, as urllib3 reads it
        timer = timeout.clone()
        timer.start_connect()
        timeout = timer.read_timeout
    return float(timeout) if isinstance(timeout, (int, float)) else None


class RequestsAdapter:
    """A ``requests`` transport adapter that answers from a fake in the same process.

    >>> import requests
    >>> from mockserver import MockServer
    >>> server = MockServer()
    >>> session = requests.Session()
    >>> session.mount(IN_PROCESS_URL, RequestsAdapter(server))
    >>> session.get(f"{IN_PROCESS_URL}/_mock/clock/").json()
    {'now': '2026-01-05T12:00:00Z'}
    """

    def __init__(self, app: MockServer, max_retries: Retry | int | None = None) -> None:
        self.app = app
        #: As ``requests.adapters.HTTPAdapter``'s: an int or a urllib3 ``Retry`` (default: none).
        self.max_retries = max_retries

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:  # fmt: skip
        return self.answer(request, timeout, self.max_retries)

    def answer(
        self, request: requests.PreparedRequest, timeout: Any, max_retries: Retry | int | None
    ) -> requests.Response:
        """Answer ``request`` from the fake, retrying as urllib3 would with ``max_retries``.

        ``HTTPAdapter`` hands its ``max_retries`` to urllib3, which retries dropped
        connections, timeouts and the statuses of ``status_forcelist`` (sleeping its backoff
        and any ``Retry-After``); :func:`intercept` passes the adapter's own, so code that
        configures retries meets planned faults as it would over a network.
        """
        import requests
        from urllib3 import HTTPHeaderDict
        from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError
        from urllib3.response import HTTPResponse
        from urllib3.util.retry import Retry

        # As HTTPAdapter reads it: no retries at all by default.
        retries = Retry.from_int(max_retries) if max_retries else Retry(0, read=False)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):  # a file or generator body
            body = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in body)
        method, url = str(request.method), str(request.url)
        while True:
            try:
                status, headers, content = call_wsgi(
                    self.app, method, url, dict(request.headers), body, _read_timeout(timeout)
                )
            except (ConnectionDropped, ResponseTimedOut) as exc:
                failure: Exception = (
                    ProtocolError("Connection aborted.", exc)
                    if isinstance(exc, ConnectionDropped)
                    else ReadTimeoutError(None, url, f"Read timed out. ({exc})")  # type: ignore[arg-type]
                )
                try:
                    retries = retries.increment(method, url, error=failure)
                except MaxRetryError as exhausted:
                    raise requests.ConnectionError(exhausted, request=request) from None
                except ProtocolError:
                    raise requests.ConnectionError(f"Connection aborted: {exc}", request=request) from None
                except ReadTimeoutError:
                    raise requests.ReadTimeout(f"Read timed out: {exc}", request=request) from None
                retries.sleep()
                continue
            raw = HTTPResponse(body=content, headers=HTTPHeaderDict(headers), status=status, preload_content=False)
            if retries.is_retry(method, status, has_retry_after=bool(raw.headers.get("Retry-After"))):
                try:
                    retries = retries.increment(method, url, response=raw)
                except MaxRetryError as exhausted:
                    if retries.raise_on_status:
                        raise requests.exceptions.RetryError(exhausted, request=request) from None
                else:
                    retries.sleep(raw)
                    continue
            return self._response(request, url, status, headers, content)

    def _response(
        self, request: requests.PreparedRequest, url: str, status: int, headers: list[tuple[str, str]], content: bytes
    ) -> requests.Response:
        import requests
        from requests.structures import CaseInsensitiveDict
        from requests.utils import get_encoding_from_headers

        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = io.BytesIO(content)
        response._content = content
        response.url = url
        response.request = request
        response.reason = ""
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        """Nothing to release: no sockets were opened."""


def in_process_session(
    app: MockServer, headers: Mapping[str, str] | None = None, *, max_retries: Retry | int | None = None
) -> requests.Session:
    """A ``requests.Session`` on ``app`` that, like an ``httpx.Client`` with a ``base_url``, takes paths.

    ``session.get("/api/projects/1/batch_exports/")`` goes to ``IN_PROCESS_URL`` + the path;
    a full URL goes where it says (the fake when it starts with ``IN_PROCESS_URL``).

    >>> from mockserver import MockServer
    >>> in_process_session(MockServer()).get("/_mock/clock/").json()
    {'now': '2026-01-05T12:00:00Z'}
    """
    import requests

    class Session(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
            if isinstance(url, str) and not urlsplit(url).scheme:
                url = f"{IN_PROCESS_URL}/{url.lstrip('/')}"
            return super().request(method, url, *args, **kwargs)

    session = Session()
    session.mount(IN_PROCESS_URL, RequestsAdapter(app, max_retries=max_retries))  # type: ignore[arg-type]
    if headers:
        session.headers.update(headers)
    return session


class HttpxTransport:
    """An ``httpx`` transport that answers from a fake in the same process.

    Use it for ``httpx.Client``; :class:`AsyncHttpxTransport` is its twin for ``AsyncClient``.

    >>> import httpx
    >>> from mockserver import MockServer
    >>> with httpx.Client(transport=HttpxTransport(MockServer()), base_url=IN_PROCESS_URL) as client:
    ...     client.get("/_mock/clock/").json()
    {'now': '2026-01-05T12:00:00Z'}
    """

    def __init__(self, app: MockServer) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _httpx_answer(self.app, request, request.read())

    def __enter__(self) -> HttpxTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def close(self) -> None:
        """Nothing to release: no sockets were opened."""


async def _httpx_answer_async(app: MockServer, request: httpx.Request, body: bytes) -> httpx.Response:
    """:func:`_httpx_answer` on a worker thread (anyio's, so asyncio and trio alike)."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(_httpx_answer, app, request, body)


def _httpx_answer(app: MockServer, request: httpx.Request, body: bytes) -> httpx.Response:
    import httpx

    timeout = request.extensions.get("timeout", {}).get("read")
    try:
        status, headers, content = call_wsgi(app, request.method, str(request.url), request.headers, body, timeout)
    except ConnectionDropped as exc:
        raise httpx.RemoteProtocolError(f"Server disconnected without sending a response: {exc}",
                                        request=request) from None  # fmt: skip
    except ResponseTimedOut as exc:
        raise httpx.ReadTimeout(f"The read operation timed out: {exc}", request=request) from None
    return httpx.Response(status, headers=headers, content=content, request=request)


class AsyncHttpxTransport:
    """:class:`HttpxTransport` for ``httpx.AsyncClient``.

    The fake answers on a worker thread, as a server would answer elsewhere: a planned
    latency keeps the event loop free, so other tasks run and asyncio's timeouts fire.
    """

    def __init__(self, app: MockServer) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await _httpx_answer_async(self.app, request, await request.aread())

    async def __aenter__(self) -> AsyncHttpxTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    async def aclose(self) -> None:
        """Nothing to release: no sockets were opened."""


_DEFAULT_PORTS = {"http": 80, "https": 443}


class InterceptedHosts:
    """Which URLs :func:`intercept` diverts, each entry as specific as it is written:

    * ``"us.posthog.com"``: that host, any scheme and port;
    * ``"localhost:8000"``: that host on that port;
    * ``"https://posthog.example.internal"`` (a trailing ``/`` allowed): that scheme too,
      on any port unless one is written.

    >>> hosts = InterceptedHosts(["us.posthog.com", "localhost:8000", "https://posthog.example.internal"])
    >>> [hosts.matches(url) for url in ("https://US.posthog.com/api/", "http://localhost:8000/x",
    ...     "http://localhost:9000/x", "https://posthog.example.internal/", "http://posthog.example.internal/")]
    [True, True, False, True, False]
    >>> InterceptedHosts(["https://posthog.example.internal/api/"])
    Traceback (most recent call last):
    ...
    ValueError: hosts: 'https://posthog.example.internal/api/' has a path; give a host, host:port or scheme://host[:port]
    """

    def __init__(self, hosts: Iterable[str]) -> None:
        if isinstance(hosts, str):  # a string is a tuple of characters to ``in``: never what was meant
            raise TypeError(f"hosts: give a tuple of hosts, such as ({hosts!r},), not one string")
        self.rules = [self._rule(entry) for entry in hosts]

    @staticmethod
    def _rule(entry: str) -> tuple[str | None, str, int | None]:
        if not isinstance(entry, str) or not entry.strip():
            raise ValueError(f"hosts: {entry!r} is not a host name")
        scheme = entry.split("://", 1)[0].lower() if "://" in entry else None
        parts = urlsplit(entry if scheme else f"//{entry}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"hosts: {entry!r} has a path; give a host, host:port or scheme://host[:port]")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"hosts: {entry!r} has no valid port") from None
        if not parts.hostname:
            raise ValueError(f"hosts: {entry!r} names no host")
        return scheme, parts.hostname, port

    def matches(self, url: str) -> bool:
        """Whether a request to ``url`` goes to the fake."""
        parts = urlsplit(url)
        host, scheme = parts.hostname, parts.scheme.lower()
        for rule_scheme, rule_host, rule_port in self.rules:
            if host != rule_host or (rule_scheme is not None and scheme != rule_scheme):
                continue
            if rule_port is None or (parts.port or _DEFAULT_PORTS.get(scheme)) == rule_port:
                return True
        return False


@contextlib.contextmanager
def intercept(app: MockServer, hosts: Iterable[str] = POSTHOG_HOSTS) -> Iterator[None]:
    """Route ``requests`` and ``httpx`` calls to ``hosts`` into ``app``, for the ``with`` block.

    ``hosts`` as :class:`InterceptedHosts` reads them: ``"posthog.example.internal"``,
    ``"localhost:8000"`` or ``"https://posthog.example.internal"``; an entry it cannot read
    is refused at once (``ValueError``). Only those hosts are diverted; every other URL
    goes out as usual. Whichever of the two libraries is not installed is left alone.
    """
    diverted = InterceptedHosts(hosts)
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(ImportError):
            stack.enter_context(_intercept_requests(app, diverted))
        with contextlib.suppress(ImportError):
            stack.enter_context(_intercept_httpx(app, diverted))
        yield


@contextlib.contextmanager
def _intercept_requests(app: MockServer, hosts: InterceptedHosts) -> Iterator[None]:
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send
    adapter = RequestsAdapter(app)

    def send(self: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if hosts.matches(str(request.url)):
            timeout = kwargs.get("timeout", args[1] if len(args) > 1 else None)
            return adapter.answer(request, timeout, self.max_retries)  # the session's own retry policy
        return original(self, request, *args, **kwargs)

    HTTPAdapter.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        HTTPAdapter.send = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _intercept_httpx(app: MockServer, hosts: InterceptedHosts) -> Iterator[None]:
    import httpx

    sync_original = httpx.HTTPTransport.handle_request
    async_original = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if hosts.matches(str(request.url)):
            return _httpx_answer(app, request, request.read())
        return sync_original(self, request)

    async def handle_async_request(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        if hosts.matches(str(request.url)):
            return await _httpx_answer_async(app, request, await request.aread())
        return await async_original(self, request)

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx.HTTPTransport.handle_request = sync_original  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = async_original  # type: ignore[method-assign]
