"""``serve`` on both servers, from outside: stalled clients, ports, shutdown (loopback only)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mockserver.server import granian_available

#: granian is the optional 'serve' extra: without it, only werkzeug's server is tested.
SERVERS = [
    pytest.param(
        "granian", marks=pytest.mark.skipif(not granian_available(), reason="the 'serve' extra is not installed")
    ),
    "werkzeug",
]


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    port: int
    tenant: dict[str, Any]
    server: str = "werkzeug"

    def get(self, path: str, *, timeout: float = 30.0) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.tenant['api_key']}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())

    @property
    def exports_path(self) -> str:
        return f"/api/projects/{self.tenant['project_id']}/batch_exports/"


def start(server: str, *extra: str) -> Served:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--seed", "3", "--print-tenant",
         "--server", server, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True,  # its own process group: stop() ends granian's worker too
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.endswith(f"({server})\n"), first
    url = first.split(" on ", 1)[1].split()[0]
    assert process.stdout.readline().startswith("A ready tenant")
    lines = [process.stdout.readline()]
    while lines[-1] not in ("}\n", ""):
        lines.append(process.stdout.readline())
    return Served(process, url, int(url.rsplit(":", 1)[1]), json.loads("".join(lines)), server)


def stop(served: Served) -> None:
    """End the server and every process it started (granian forks a worker, which a kill
    of the parent alone would leave running)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(served.process.pid, signal.SIGKILL)
    served.process.wait(timeout=10)
    if served.process.stdout is not None:
        served.process.stdout.close()


@pytest.fixture(params=SERVERS)
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    running = start(request.param, "--body-timeout", "2")
    try:
        yield running
    finally:
        stop(running)


def test_the_reported_port_is_already_listening(served: Served) -> None:
    """``--port 0``: the server binds, then says where; the first request needs no retry."""
    status, body = served.get(served.exports_path)
    assert (status, body["count"]) == (200, 0)


def _stall(served: Served, announced: int = 10) -> socket.socket:
    """A connection whose POST announces ``announced`` bytes of body and sends one."""
    stalled = socket.create_connection(("127.0.0.1", served.port))
    stalled.sendall(
        f"POST {served.exports_path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.tenant['api_key']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {announced}\r\n\r\n{{".encode()
    )
    return stalled


def test_a_client_that_never_finishes_its_body_holds_up_nobody(served: Served) -> None:
    """Before its deadline and after it, while the stalled connection stays open.

    werkzeug answers it 408 at the deadline. granian cannot stop waiting on a body that
    does not come (no read timeout, and answering while another thread reads froze the
    whole server): the request keeps its one thread until the client goes away.
    """
    stalled = _stall(served)
    try:
        time.sleep(0.2)
        started = time.monotonic()
        for _ in range(3):
            assert served.get(served.exports_path)[0] == 200
        assert time.monotonic() - started < 1.5  # before the stalled body's 2 s timeout
        stalled.settimeout(4)
        if _is_werkzeug(served):
            assert stalled.recv(65536).startswith(b"HTTP/1.1 408")
        else:
            time.sleep(2.5)  # past the deadline
        for _ in range(3):  # the stalled connection still open
            assert served.get(served.exports_path, timeout=5)[0] == 200
    finally:
        stalled.close()
    assert served.get(served.exports_path)[1]["count"] == 0


def test_a_client_that_trickles_its_body_holds_up_nobody(served: Served) -> None:
    """One byte every half second: werkzeug answers 408 at the deadline; on granian, whose
    reads wait for every byte asked for, the request holds its own thread, and only it."""
    stalled = _stall(served, announced=40)
    try:
        stalled.settimeout(0.5)
        started, head = time.monotonic(), b""
        while not head and time.monotonic() - started < 4:
            stalled.sendall(b" ")
            with contextlib.suppress(TimeoutError):
                head = stalled.recv(65536)
            assert served.get(served.exports_path, timeout=5)[0] == 200
        if _is_werkzeug(served):
            assert head.startswith(b"HTTP/1.1 408"), head
        else:
            assert head == b""
    finally:
        stalled.close()


def _is_werkzeug(served: Served) -> bool:
    return served.server == "werkzeug"


def test_a_chunked_body_is_read_to_its_end(served: Served) -> None:
    """No ``Content-Length``: the body arrives in chunks and is read whole, on both servers."""
    body = json.dumps({"name": "chunked", "interval": "hour", "destination": {"type": "NoOp", "config": {}}})
    half = len(body) // 2
    chunks = b"".join(f"{len(part):x}\r\n{part}\r\n".encode() for part in (body[:half], body[half:])) + b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            f"POST {served.exports_path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.tenant['api_key']}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
            + chunks
        )
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 201"), head
    listed = served.get(served.exports_path)[1]
    assert [export["name"] for export in listed["results"]] == ["chunked"]


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_lets_requests_in_flight_finish_then_exits_0(server: str, how: signal.Signals) -> None:
    running = start(server)
    try:
        # A planned latency keeps a request in flight when the signal arrives.
        plan = urllib.request.Request(
            running.url + "/_mock/latency/", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"operation_id": "batch_exports_list", "seconds": 1.0}).encode(),
        )  # fmt: skip
        urllib.request.urlopen(plan, timeout=30).close()
        results: list[Any] = []

        def slow_request() -> None:
            try:
                results.append(running.get(running.exports_path, timeout=10)[0])
            except OSError as exc:
                results.append(exc)

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        running.process.send_signal(how)
        code = running.process.wait(timeout=15)
        thread.join(timeout=10)
        assert results == [200]
        assert code == 0
        assert time.monotonic() - started < 10
    finally:
        stop(running)


@pytest.mark.parametrize("server", SERVERS)
def test_a_stalled_client_delays_shutdown_by_the_grace_period_at_most(server: str) -> None:
    running = start(server, "--body-timeout", "60")
    stalled = socket.create_connection(("127.0.0.1", running.port))
    try:
        stalled.sendall(
            f"POST {running.exports_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 10\r\n\r\n{".encode()
        )
        time.sleep(0.3)
        started = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(timeout=20) == 0
        assert time.monotonic() - started < 9  # the grace period is 5 s
    finally:
        stalled.close()
        stop(running)


@pytest.mark.parametrize("server", SERVERS)
def test_idle_connections_do_not_lock_other_clients_out(server: str) -> None:
    """Over a thousand connections that never send a byte: the next client is still served."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1100
    if soft < wanted + 100 and (hard == resource.RLIM_INFINITY or hard >= wanted + 100):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted + 100, hard))
    running = start(server)
    idle: list[socket.socket] = []
    try:
        for _ in range(wanted):
            idle.append(socket.create_connection(("127.0.0.1", running.port), timeout=5))
        time.sleep(0.5)
        started = time.monotonic()
        assert running.get(running.exports_path, timeout=20)[0] == 200
        assert time.monotonic() - started < 12  # at worst, idle connections are dropped after 10 s
    finally:
        for sock in idle:
            sock.close()
        stop(running)


def _own_non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (traffic to it never leaves the machine)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("server", SERVERS)
def test_the_control_plane_refuses_a_peer_that_is_not_loopback(server: str) -> None:
    address = _own_non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    running = start(server, "--host", "0.0.0.0")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{running.port}/_mock/state/", timeout=30) as local:
            assert local.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://{address}:{running.port}/_mock/state/", timeout=30)
        assert refused.value.code == 403
        assert json.loads(refused.value.read())["code"] == "permission_denied"
        # The PostHog API answers any peer.
        request = urllib.request.Request(
            f"http://{address}:{running.port}{running.exports_path}",
            headers={"Authorization": f"Bearer {running.tenant['api_key']}"},
        )
        with urllib.request.urlopen(request, timeout=30) as api:
            assert api.status == 200
    finally:
        stop(running)


def test_warming_up_builds_the_authority_for_every_profile_without_the_store_lock() -> None:
    """``serve`` warms up on a thread so that no request builds openapi-core under the lock."""
    from mockserver import MockServer

    app = MockServer()
    with app.store.lock:  # another thread holds the state: warming up must not need it
        warming = threading.Thread(target=app.warm_up, daemon=True)
        warming.start()
        warming.join(timeout=60)
        assert not warming.is_alive()
    assert set(app._validators) == set(app.specs)


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("access_log", [False, True])
def test_a_planned_drop_closes_the_connection_without_an_answer(server: str, access_log: bool, tmp_path: Path) -> None:
    """A ``drop`` fault reaches the client as a connection closed without a complete answer, never a 500."""
    served = start(server, *(["--access-log", str(tmp_path / "access.log")] if access_log else []))
    try:
        _drop_one_request(served)
    finally:
        stop(served)
    if access_log:
        assert '" - -' in (tmp_path / "access.log").read_text()  # logged as a drop, no status


def _drop_one_request(served: Served) -> None:
    fault = json.dumps({"operation_id": "batch_exports_list", "drop": True}).encode()
    planned = urllib.request.Request(served.url + "/_mock/faults/", data=fault,
                                     headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
    with urllib.request.urlopen(planned, timeout=10) as response:
        assert response.status == 201
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            f"GET {served.exports_path} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {served.tenant['api_key']}\r\n\r\n".encode()
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    # werkzeug closes before a byte; granian, which cannot drop, closes before the status line
    # or just after it, mid-body: either way no complete answer, so clients raise a connection error.
    assert received == b"" or (received.startswith(b"HTTP/1.1 503") and not received.endswith(b"0\r\n\r\n"))
    assert served.get(served.exports_path)[0] == 200  # the fault is used up


def test_serve_imports_the_name_lookup_codec_before_granian_forks_its_worker() -> None:
    """A fork in the middle of an import leaves the child's lock on that module held forever.

    While granian forks, a thread of ``serve`` polls the port, and the first name lookup of
    a process imports the IDNA codec: the worker then hung on its first request that needed
    openapi-core (which imports the codec too), holding the store's lock. So ``serve``
    imports the codec before any thread starts.
    """
    probe = "import sys, mockserver.cli; print('encodings.idna' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"


@pytest.mark.skipif(not granian_available(), reason="granian is not installed")
def test_a_request_that_needs_openapi_core_is_answered_right_after_start() -> None:
    """The hang above, as a client met it: the first float in a body, as soon as ``serve`` listens."""
    for _ in range(3):
        running = start("granian")
        try:
            plan = urllib.request.Request(
                running.url + "/_mock/latency/", method="POST", headers={"Content-Type": "application/json"},
                data=json.dumps({"operation_id": "batch_exports_list", "seconds": 0.5}).encode(),
            )  # fmt: skip
            with urllib.request.urlopen(plan, timeout=20) as answer:
                assert answer.status == 201
        finally:
            stop(running)
