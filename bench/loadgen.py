"""A small HTTP/1.1 load generator (one thread, ``selectors``), used when wrk is not installed.

Same contract as ``wrk -t1 -cN -dS -s workload.lua``: N connections on one core, the
workload's request cycle shared by all of them, keep-alive when the server allows it
(reconnecting when it answers ``Connection: close``), latency measured from writing the
request to reading the whole response (connect time excluded, as wrk does). Bounded by
``--duration`` and ``--max-requests``. Prints one JSON line shaped like wrk's ``BENCH_JSON``.

    python bench/loadgen.py --port 8000 --connections 8 --duration 5 --workload retrieve \\
        --api-key phx_... --list-project 1 --create-key phx_... --create-project 2 --export-id ...
"""

from __future__ import annotations

import argparse
import errno
import json
import selectors
import socket
import statistics
import time
from dataclasses import dataclass, field

from common import HOST, percentile
from workloads import Endpoints

REQUEST_TIMEOUT_S = 10.0


@dataclass
class Stats:
    latencies_us: list[float] = field(default_factory=list)
    bytes: int = 0
    connect: int = 0
    read: int = 0
    write: int = 0
    status: int = 0
    timeout: int = 0


@dataclass
class Conn:
    """One client connection and the request it has in flight."""

    sock: socket.socket | None = None
    connected: bool = False
    pending: bytes = b""  # request bytes not yet written
    buffer: bytearray = field(default_factory=bytearray)
    started: float = 0.0
    header_end: int = -1
    body_length: int = -1  # -1: read to EOF
    status: int = 0
    keep_alive: bool = False


def _parse_head(conn: Conn) -> None:
    head = bytes(conn.buffer[: conn.header_end]).decode("latin-1").split("\r\n")
    version, status = head[0].split(" ", 2)[:2]
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    conn.status = int(status)
    conn.keep_alive = version == "HTTP/1.1" and headers.get("connection") != "close"
    if "content-length" in headers:
        conn.body_length = int(headers["content-length"])
    else:
        conn.body_length, conn.keep_alive = -1, False


class LoadGenerator:
    def __init__(self, port: int, requests: list[bytes], connections: int, duration: float, max_requests: int):
        self.port = port
        self.requests = requests  # the cycle, shared by all connections (as wrk's request() counter is)
        self.next = 0
        self.sent = 0
        self.max_requests = max_requests
        self.deadline = time.perf_counter() + duration
        self.selector = selectors.DefaultSelector()
        self.conns = [Conn() for _ in range(connections)]
        self.stats = Stats()

    # -- connection life cycle -----------------------------------------------------------

    def _open(self, conn: Conn) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = sock.connect_ex((HOST, self.port))
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            self.stats.connect += 1
            return
        conn.sock, conn.connected = sock, False
        self.selector.register(sock, selectors.EVENT_WRITE, conn)

    def _close(self, conn: Conn) -> None:
        if conn.sock is not None:
            self.selector.unregister(conn.sock)
            conn.sock.close()
            conn.sock = None

    def _start_request(self, conn: Conn) -> None:
        """Queue the next request of the cycle on ``conn`` (reconnecting if needed)."""
        if time.perf_counter() >= self.deadline or self.sent >= self.max_requests:
            self._close(conn)
            return
        if conn.sock is None:
            self._open(conn)
            if conn.sock is None:
                return
        conn.pending = self.requests[self.next % len(self.requests)]
        self.next += 1
        self.sent += 1
        conn.buffer.clear()
        conn.header_end, conn.body_length, conn.status = -1, -1, 0
        conn.started = 0.0
        assert conn.sock is not None
        self.selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        if conn.connected:
            self._write(conn)

    def _write(self, conn: Conn) -> None:
        assert conn.sock is not None
        if not conn.connected:
            if conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self.stats.connect += 1
                self._close(conn)
                self.sent -= 1
                self.next -= 1
                return
            conn.connected = True
        if not conn.started:
            conn.started = time.perf_counter()
        try:
            written = conn.sock.send(conn.pending)
        except BlockingIOError:
            return
        except OSError:
            self.stats.write += 1
            self._close(conn)
            return
        conn.pending = conn.pending[written:]
        if not conn.pending:
            self.selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def _read(self, conn: Conn) -> None:
        assert conn.sock is not None
        try:
            chunk = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            self.stats.read += 1
            self._close(conn)
            return
        if chunk:
            conn.buffer += chunk
            if conn.header_end < 0:
                end = conn.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                conn.header_end = end + 4
                _parse_head(conn)
            if conn.body_length < 0 or len(conn.buffer) - conn.header_end < conn.body_length:
                return
        elif conn.header_end < 0 or conn.body_length >= 0:
            self.stats.read += 1  # closed before the response was complete
            self._close(conn)
            return
        self._complete(conn)

    def _complete(self, conn: Conn) -> None:
        self.stats.latencies_us.append((time.perf_counter() - conn.started) * 1e6)
        self.stats.bytes += len(conn.buffer)
        if conn.status > 399:
            self.stats.status += 1
        if not conn.keep_alive:
            self._close(conn)
        self._start_request(conn)

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> Stats:
        for conn in self.conns:
            self._start_request(conn)
        while self.selector.get_map():
            now = time.perf_counter()
            if now >= self.deadline + REQUEST_TIMEOUT_S:
                break
            for key, events in self.selector.select(timeout=0.1):
                conn = key.data
                if events & selectors.EVENT_WRITE:
                    self._write(conn)
                elif events & selectors.EVENT_READ:
                    self._read(conn)
            now = time.perf_counter()
            for conn in self.conns:
                if conn.sock is not None and conn.started and now - conn.started > REQUEST_TIMEOUT_S:
                    self.stats.timeout += 1
                    self._close(conn)
                    self._start_request(conn)
                elif conn.sock is None and now < self.deadline and self.sent < self.max_requests:
                    self._start_request(conn)  # connect failed earlier: try again
        for conn in self.conns:
            self._close(conn)
        self.selector.close()
        return self.stats


def run(
    endpoints: Endpoints, port: int, workload: str, connections: int, duration: float, max_requests: int
) -> dict[str, object]:
    raw = {kind: endpoints.raw_request(kind, HOST, port) for kind in ("list", "retrieve", "create")}
    requests = [raw[kind] for kind in endpoints.cycle(workload)]
    started = time.perf_counter()
    stats = LoadGenerator(port, requests, connections, duration, max_requests).run()
    elapsed = time.perf_counter() - started
    lat = sorted(stats.latencies_us)
    return {
        "requests": len(lat),
        "duration_us": int(elapsed * 1e6),
        "bytes": stats.bytes,
        "errors": {
            "connect": stats.connect,
            "read": stats.read,
            "write": stats.write,
            "status": stats.status,
            "timeout": stats.timeout,
        },
        "latency_us": {
            "p50": percentile(lat, 50),
            "p90": percentile(lat, 90),
            "p99": percentile(lat, 99),
            "mean": statistics.fmean(lat) if lat else float("nan"),
            "max": lat[-1] if lat else float("nan"),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--workload", choices=["list", "retrieve", "create", "mixed"], required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--list-project", type=int, required=True)
    parser.add_argument("--create-key", required=True)
    parser.add_argument("--create-project", type=int, required=True)
    parser.add_argument("--export-id", required=True)
    args = parser.parse_args()
    endpoints = Endpoints(args.api_key, args.list_project, args.create_key, args.create_project, args.export_id)
    duration = min(args.duration, 600.0)
    print(json.dumps(run(endpoints, args.port, args.workload, args.connections, duration, args.max_requests)))


if __name__ == "__main__":
    main()
