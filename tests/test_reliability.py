"""No client can stall the fake, crash it, or make it keep what it cannot give back.

Each test here pins a way a client once could: a body that never finishes, a body too
large or too deep to keep, input that recursed until Python gave up.
"""

from __future__ import annotations

import gc
import io
import json
import socket
import threading
import time
import urllib.request
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from support import Api, call, error
from werkzeug.test import Client

from mockserver import MockServer
from mockserver.errors import RequestTimeout
from mockserver.http.body import MAX_JSON_DEPTH, BodyLimits, BodyReaders, read_body
from mockserver.server import ServerThread

NOOP_EXPORT = {"name": "my export", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}


def nested(depth: int, leaf: Any = 1) -> Any:
    """``depth`` levels of JSON (objects and arrays alternating) around ``leaf``."""
    value = leaf
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


def state(server: MockServer) -> Any:
    return call(server, "GET", "/_mock/state/").json


@pytest.fixture
def served() -> Iterator[tuple[MockServer, ServerThread]]:
    app = MockServer(body_limits=BodyLimits(timeout=1.0))
    with ServerThread(app) as running:
        yield app, running
    assert not app.errors, list(app.errors)


def raw_request(port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes and read until the server closes or ``timeout`` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except TimeoutError:
            pass
        return b"".join(chunks)


# -- 1. nothing holds the lock while waiting on a client --------------------------------------


def test_the_body_is_read_before_the_store_lock_is_taken(server: MockServer, api: Api) -> None:
    held_while_reading: list[bool] = []

    def lock_is_held() -> bool:
        # RLock cannot say whether anyone holds it: another thread tries to take it.
        taken: list[bool] = []

        def probe() -> None:
            taken.append(server.store.lock.acquire(False))
            if taken[0]:
                server.store.lock.release()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return not taken[0]

    class Watched(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            held_while_reading.append(lock_is_held())
            return super().read(size)

        def read1(self, size: int | None = -1) -> bytes:
            held_while_reading.append(lock_is_held())
            return super().read1(size)

        def readinto(self, buffer: Any) -> int:
            held_while_reading.append(lock_is_held())
            return super().readinto(buffer)

    body = json.dumps(NOOP_EXPORT).encode()
    response = api.post(
        "/batch_exports/", input_stream=Watched(body), content_type="application/json",
        headers={"Authorization": f"Bearer {api.tenant.api_key}", "Content-Length": str(len(body))},
    )  # fmt: skip
    assert response.status_code == 201, response.json
    assert held_while_reading and not any(held_while_reading)


def test_a_client_that_never_finishes_its_body_holds_up_nobody(served: tuple[MockServer, ServerThread]) -> None:
    app, running = served
    tenant = app.store.create_tenant()
    stalled = socket.create_connection(("127.0.0.1", running.port))
    try:
        path = f"/api/projects/{tenant.project_id}/batch_exports/"
        stalled.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenant.api_key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{".encode()
        )
        time.sleep(0.1)  # the server is now reading the stalled body
        started = time.monotonic()
        request = urllib.request.Request(running.url + path, headers={"Authorization": f"Bearer {tenant.api_key}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - started < 0.9  # well before the stalled body's timeout
        # The stalled request itself is answered 408 at its read timeout.
        stalled.settimeout(5)
        head = stalled.recv(65536)
        assert head.startswith(b"HTTP/1.1 408"), head
        assert b'"code":"request_timeout"' in head or b"request_timeout" in stalled.recv(65536)
    finally:
        stalled.close()


class _Socketlike:
    """A request stream as a server without read timeouts hands it over (not in memory).

    ``gate``: reads wait for it (a client that stalls); ``forbidden``: any read fails
    the test (there is no body to read).
    """

    def __init__(self, data: bytes = b"", *, gate: threading.Event | None = None, forbidden: bool = False) -> None:
        self.data = io.BytesIO(data)
        self.gate = gate
        self.forbidden = forbidden

    def read(self, size: int = -1) -> bytes:
        assert not self.forbidden, "read a body the request does not have"
        if self.gate is not None:
            self.gate.wait()
        return self.data.read(size)


def test_a_request_that_announces_no_body_is_not_read() -> None:
    """granian marks every request ``wsgi.input_terminated``, GETs included; only a
    ``Content-Length`` or ``Transfer-Encoding: chunked`` says that a body follows."""
    environ = {"wsgi.input": _Socketlike(forbidden=True), "wsgi.input_terminated": True, "REQUEST_METHOD": "GET"}
    assert read_body(environ, BodyLimits(), BodyReaders()) == b""


def test_a_chunked_body_is_read_on_a_reader_thread_to_its_end() -> None:
    environ: dict[str, Any] = {
        "wsgi.input": _Socketlike(b'{"name": "x"}'),
        "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked",
    }
    assert read_body(environ, BodyLimits(), BodyReaders()) == b'{"name": "x"}'
    assert environ["wsgi.input"].read() == b'{"name": "x"}'  # from memory from now on


def test_a_stalled_body_times_out_and_the_next_body_is_read_on_another_thread() -> None:
    readers, gate = BodyReaders(), threading.Event()
    limits = BodyLimits(timeout=0.2)
    try:
        with pytest.raises(RequestTimeout):
            read_body({"CONTENT_LENGTH": "2", "wsgi.input": _Socketlike(b"{}", gate=gate)}, limits, readers)
        # The thread that waits on the stalled client is busy: this body gets another one.
        started = time.monotonic()
        assert read_body({"CONTENT_LENGTH": "2", "wsgi.input": _Socketlike(b"[]")}, limits, readers) == b"[]"
        assert time.monotonic() - started < 0.2
    finally:
        gate.set()


def test_reader_threads_are_reused_from_one_body_to_the_next() -> None:
    readers = BodyReaders()

    def body_readers() -> int:
        return sum(thread.name == "mockserver-body" for thread in threading.enumerate())

    before = body_readers()
    for n in range(20):
        data = str(n).encode()
        environ = {"CONTENT_LENGTH": str(len(data)), "wsgi.input": _Socketlike(data)}
        assert read_body(environ, BodyLimits(), readers) == data
    assert body_readers() - before == 1


def test_reader_threads_end_after_waiting_idle() -> None:
    readers = BodyReaders(idle_seconds=0.05)
    done = threading.Event()
    readers.run(done.set)
    assert done.wait(5)
    deadline = time.monotonic() + 5
    while readers.threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert readers.threads == 0


def test_a_waiting_reader_thread_keeps_no_body_alive() -> None:
    """A body can be megabytes: once read and handed over, the thread that read it forgets it."""
    readers = BodyReaders()
    stream = _Socketlike(b"x" * (1 << 20))
    gone = weakref.ref(stream)
    data = read_body({"CONTENT_LENGTH": str(1 << 20), "wsgi.input": stream}, BodyLimits(), readers)
    assert len(data) == 1 << 20
    del stream, data
    deadline = time.monotonic() + 5
    while gone() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert gone() is None and readers.threads == 1  # the thread waits on, without the body


def test_without_threads_to_spare_the_body_is_read_on_the_requests_own(monkeypatch: pytest.MonkeyPatch) -> None:
    def cannot_start(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    readers = BodyReaders()
    monkeypatch.setattr(threading.Thread, "start", cannot_start)
    assert read_body({"CONTENT_LENGTH": "2", "wsgi.input": _Socketlike(b"{}")}, BodyLimits(), readers) == b"{}"
    monkeypatch.undo()
    assert readers.threads == 0  # nothing counted, nothing queued for a thread that never ran
    assert read_body({"CONTENT_LENGTH": "2", "wsgi.input": _Socketlike(b"[]")}, BodyLimits(), readers) == b"[]"
    assert readers.threads == 1


def test_a_body_over_the_limit_is_a_413_and_stores_nothing() -> None:
    server = MockServer(strict=True, body_limits=BodyLimits(max_bytes=1000))
    api = Api(server, server.store.create_tenant())
    before = state(server)
    response = api.post("/batch_exports/", json={**NOOP_EXPORT, "name": "x" * 2000})
    assert (response.status_code, response.json) == (
        413,
        error("payload_too_large", "Request body exceeds the limit of 1000 bytes.", type="invalid_request"),
    )
    assert state(server) == before
    assert api.post("/batch_exports/", json=NOOP_EXPORT).status_code == 201
    assert not server.errors


def test_an_announced_length_over_the_limit_is_refused_without_reading(served: tuple[MockServer, ServerThread]) -> None:
    app, running = served
    tenant = app.store.create_tenant()
    head = raw_request(
        running.port,
        f"POST /api/projects/{tenant.project_id}/batch_exports/ HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {tenant.api_key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {1 << 40}\r\n\r\n".encode(),
    )
    assert head.startswith(b"HTTP/1.1 413"), head
    assert app.store.batch_exports == {}


# -- 2. no input reaches a 500 ---------------------------------------------------------------


def test_a_body_nested_deeper_than_the_limit_is_a_400_before_parsing(api: Api, server: MockServer) -> None:
    before = state(server)
    for depth in (MAX_JSON_DEPTH + 1, 300, 3000, 100_000):
        inner = depth - 1  # the body's own object is the first level
        text = '{"name": "x", "interval": "hour", "filters": ' + "[" * inner + "]" * inner + "}"
        response = api.post("/batch_exports/", data=text, content_type="application/json")
        assert (response.status_code, response.json) == (
            400,
            error(
                "parse_error", f"JSON parse error - nesting deeper than {MAX_JSON_DEPTH} levels",
                type="invalid_request",
            ),
        ), depth  # fmt: skip
    assert state(server) == before


@pytest.mark.parametrize("length", ["1_0", "+2", "2, 2", "-1", "٢", "0x2", ""])
def test_a_content_length_of_anything_but_digits_is_a_400(length: str) -> None:
    """RFC 9110: ``1*DIGIT``. ``int()`` reads "1_0" as 10 and "+2" as 2, which a server in front may not."""
    from mockserver.errors import ParseError
    from mockserver.http.body import BodyLimits, read_body

    environ = {"CONTENT_LENGTH": length, "HTTP_TRANSFER_ENCODING": "", "wsgi.input": io.BytesIO(b"{}" * 8)}
    if not length:
        assert read_body(environ, BodyLimits()) == b""  # none announced: no body
        return
    with pytest.raises(ParseError, match="Invalid Content-Length"):
        read_body(environ, BodyLimits())
    assert read_body({**environ, "CONTENT_LENGTH": " 2 "}, BodyLimits()) == b"{}"  # whitespace around is allowed


def test_escaped_quotes_in_an_unclosed_string_cost_linear_time_not_quadratic() -> None:
    """An 80 KB body of ``\\"`` pairs after 101 brackets held the store's lock for 17 s: every escaped
    quote started a new search for the string's end. The scan is one pass now. Timed against the
    same scan of a body a tenth the size, so a slow machine slows both alike."""
    from mockserver.http.body import json_too_deep

    def seconds(pairs: int) -> float:
        body = b"[]" * 101 + b'"' + b'\\"' * pairs
        started = time.perf_counter()
        assert not json_too_deep(body)  # an unclosed string: a parse error later, not "too deep"
        return time.perf_counter() - started

    small, big = min(seconds(20_000) for _ in range(3)), min(seconds(200_000) for _ in range(3))
    assert big < 30 * small  # quadratic would be 100x


def test_a_form_whose_values_nest_too_deep_is_refused_too(api: Api, server: MockServer) -> None:
    """Form values are read as JSON: their brackets, urlencoded on the wire, are counted once decoded."""
    before = state(server)
    for depth in (150, 300, 2000):  # past 255 levels the JSON writer itself gives up
        deep = "[" * depth + "]" * depth
        response = api.post("/batch_exports/", data={"name": "x", "interval": "hour", "filters": deep})
        assert (response.status_code, response.json["code"]) == (400, "parse_error"), depth
        response = api.post("/batch_exports/", data={"name": "x", "interval": "hour", "destination.config": deep})
        assert (response.status_code, response.json["code"]) == (400, "parse_error"), depth
    assert state(server) == before


def test_a_deep_array_without_a_key_is_refused_and_the_journal_still_reads(server: MockServer) -> None:
    client = Client(server)
    response = client.post(
        "/api/projects/1/batch_exports/", data="[" * 300 + "]" * 300, content_type="application/json"
    )
    assert response.status_code == 401
    response = client.post("/nowhere/", data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert response.status_code == 404
    journal = call(server, "GET", "/_mock/journal/")
    assert journal.status_code == 200
    assert [e["status"] for e in journal.json["results"]] == [401, 404]


def test_whatever_was_stored_can_be_listed_and_read_back(api: Api, server: MockServer) -> None:
    """The deepest body accepted, with values orjson cannot write, still renders everywhere."""
    # body → filters → filter → the value: three levels above it.
    stored = {"type": "event", "deep": nested(MAX_JSON_DEPTH - 3), "big": 2**70, "lone": "\ud800"}
    body = {**NOOP_EXPORT, "filters": [stored]}
    created = api.post("/batch_exports/", data=json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.json
    export_id = created.json["id"]
    assert created.json["filters"] == [stored]
    org = api.tenant.organization_id
    for path in ("/batch_exports/", f"/batch_exports/{export_id}/", f"/api/organizations/{org}/batch_exports/",
                 "/_mock/state/", "/_mock/journal/"):  # fmt: skip
        response = api.get(path)
        assert response.status_code == 200, (path, response.data[:200])
    assert api.delete(f"/batch_exports/{export_id}/").status_code == 204
    assert api.get("/batch_exports/").status_code == 200


def test_hogql_nested_beyond_reason_is_a_400(api: Api, server: MockServer) -> None:
    query = "SELECT " + "(" * 500 + "1" + ")" * 500 + " FROM events"
    body = {**NOOP_EXPORT, "model": "events", "hogql_query": query}
    response = api.post("/batch_exports/", json=body)
    assert (response.status_code, response.json) == (
        400,
        error("invalid_input", "Failed to parse query", "hogql_query"),
    )


def test_unexpected_errors_are_kept_but_bounded() -> None:
    server = MockServer()
    api = Api(server, server.store.create_tenant())

    def broken(ctx: Any) -> Any:
        raise RuntimeError("a bug")

    server.handlers["batch_exports_list_2"] = broken
    for _ in range(300):
        assert api.get("/batch_exports/").status_code == 500
    assert 0 < len(server.errors) <= 100
    assert isinstance(server.errors[-1], RuntimeError)


@pytest.mark.parametrize("as_form", [False, True])
def test_a_key_sent_in_the_body_does_not_hide_the_body_errors(api: Api, as_form: bool) -> None:
    """Body validation once stopped at the missing ``Authorization`` header: a 500 followed."""
    sent = {"personal_api_key": api.tenant.api_key, "name": "x"}
    response = api.post("/batch_exports/", headers={}, **({"data": sent} if as_form else {"json": sent}))
    assert (response.status_code, response.json) == (400, error("required", "This field is required.", "destination"))
