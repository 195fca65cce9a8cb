"""Every operation, fed hostile input: a 4xx in PostHog's error shape (or a harmless answer), never a 5xx,
and an error changes nothing.

The kinds: malformed JSON, a missing or wrong ``Content-Type``, wrong JSON types, deep and
oversized bodies, invalid UTF-8, absurd and empty query values, traversal and encoded
slashes in ids, empty path segments, upper-case ids, header injection and very long URLs.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from test_isolation import OPERATIONS, Owner, build_owner, url
from werkzeug.test import Client, TestResponse

from mockserver import MockServer
from mockserver.http.body import BodyLimits
from mockserver.http.spec import Operation

Send = Callable[[Client, Operation, str, dict[str, str]], TestResponse]


def body_of(raw: bytes, content_type: str | None) -> Send:
    def send(client: Client, op: Operation, path: str, headers: dict[str, str]) -> TestResponse:
        if content_type is not None:
            headers = {**headers, "Content-Type": content_type}
        return client.open(path, method=op.method, data=raw, headers=headers)

    return send


def with_path(change: Callable[[str], str]) -> Send:
    def send(client: Client, op: Operation, path: str, headers: dict[str, str]) -> TestResponse:
        body = b"{}" if op.has_body else None
        ct = {"Content-Type": "application/json"} if op.has_body else {}
        return client.open(change(path), method=op.method, data=body, headers={**headers, **ct})

    return send


def with_environ(extra: dict[str, str]) -> Send:
    """Header values no HTTP client library would send (set in the WSGI environ directly)."""

    def send(client: Client, op: Operation, path: str, headers: dict[str, str]) -> TestResponse:
        body = b"{}" if op.has_body else None
        return client.open(
            path, method=op.method, data=body, headers={**headers, "Content-Type": "application/json"},
            environ_overrides=extra,
        )  # fmt: skip

    return send


def _swap_last_id(path: str, replacement: Callable[[str], str]) -> str:
    parts = path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if len(parts[i]) == 36 and parts[i].count("-") == 4:
            parts[i] = replacement(parts[i])
            break
    return "/".join(parts)


KINDS: dict[str, Send] = {
    "malformed json": body_of(b'{"name": "x",', "application/json"),
    "json without content type": body_of(b'{"name": "x"}', None),
    "wrong content type": body_of(b"<xml/>", "application/xml"),
    "wrong json types": body_of(
        b'{"name": 5, "interval": ["hour"], "paused": "maybe", "destination": "x"}', "application/json"
    ),
    "a list, not an object": body_of(b"[1, 2, 3]", "application/json"),
    "deep json": body_of(b"[" * 3000 + b"]" * 3000, "application/json"),
    "oversized body": body_of(b'{"name": "' + b"x" * 70_000 + b'"}', "application/json"),
    "invalid utf-8": body_of(b'{"name": "\xff\xfe\xc3"}', "application/json"),
    "nan and huge numbers": body_of(
        b'{"offset_hour": NaN, "offset_day": 1e999, "x": 123456789012345678901234567890}', "application/json"
    ),
    "absurd query values": with_path(
        lambda p: p + "?limit=-1&offset=99999999999999999999&cursor=%00%FF&ordering=;drop"
    ),
    "empty query values": with_path(lambda p: p + "?limit=&offset=&cursor=&ordering=&status=&after=&before="),
    "traversal in ids": with_path(lambda p: _swap_last_id(p, lambda i: "..%2F..%2F" + i)),
    "encoded slash in ids": with_path(lambda p: _swap_last_id(p, lambda i: i[:8] + "%2F" + i[9:])),
    "empty path segment": with_path(lambda p: p.rstrip("/") + "//"),
    "upper-case ids": with_path(lambda p: _swap_last_id(p, str.upper)),
    "header injection": with_environ(
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4\r\nX-Evil: 1", "HTTP_ACCEPT": "application/json\r\n", "HTTP_X_N": "\xff\xfe"}
    ),
    "very long url": with_path(lambda p: p + "?" + "a" * 20_000 + "=1"),
}


@pytest.fixture(scope="module")
def hostile_world() -> tuple[MockServer, Owner]:
    server = MockServer(strict=True, body_limits=BodyLimits(max_bytes=64 << 10))
    return server, build_owner(server)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_hostile_input(hostile_world: tuple[MockServer, Owner], op: Operation, kind: str) -> None:
    server, owner = hostile_world
    before = server.store.snapshot()
    response = KINDS[kind](Client(server), op, url(op, owner, owner), {"Authorization": f"Bearer {owner.key}"})
    assert response.status_code < 500, (response.status_code, response.data[:300])
    assert not server.errors, server.errors
    if response.status_code >= 400 and response.data:
        body: Any = response.json
        assert set(body) == {"type", "code", "detail", "attr"}, body
        assert server.store.snapshot() == before, "an error changed the state"
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value and "X-Evil" not in name


def test_memory_stays_flat_over_many_large_requests() -> None:
    """The journal's byte bound holds: memory does not grow with the number of requests."""
    server = MockServer(journal_bytes=2 << 20)
    client = Client(server)
    payload = b'{"name": "' + b"x" * 200_000 + b'"}'
    for _ in range(30):  # warm up: caches, lazy imports
        client.post("/nowhere/", data=payload, content_type="application/json")
    tracemalloc.start()
    try:
        first = tracemalloc.get_traced_memory()[0]
        for _ in range(400):  # 80 MB sent
            client.post("/nowhere/", data=payload, content_type="application/json")
        grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    assert server.journal.size_bytes <= 2 << 20
    assert grown < 4 << 20, f"memory grew by {grown / 2**20:.1f} MiB"


def test_long_query_strings_and_hosts_are_not_kept_by_the_link_caches() -> None:
    """Pagination links are cached per URL; a client sending a new long query string or Host
    each time must not fill the memory with them (4,096 × 60 KB pinned ~0.9 GB). What grows is
    the standard library's own cache of split URLs, which keeps 128."""
    server = MockServer(journal_size=0)
    tenant = server.store.create_tenant()
    client = Client(server, use_cookies=False)
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    path = f"/api/projects/{tenant.project_id}/batch_exports/"
    for n in range(3):
        client.post(path, json={"name": f"e{n}", "interval": "hour", "destination": {"type": "NoOp", "config": {}}},
                    headers=headers)  # fmt: skip

    def long_ones(start: int, count: int) -> None:
        for n in range(start, start + count):
            response = client.get(f"{path}?limit=1&z={n}{'a' * 20_000}", headers=headers)
            assert response.status_code == 200 and (response.json or {}).get("next")
            client.get(f"{path}?limit=1", headers={**headers, "Host": f"h{n}{'b' * 20_000}"})

    long_ones(0, 150)  # warm up, and fill the standard library's own bounded caches (urlsplit keeps 128)
    tracemalloc.start()
    try:
        first = tracemalloc.get_traced_memory()[0]
        long_ones(150, 600)  # 24 MB of distinct query strings and Host headers
        grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    assert grown < 12 << 20, f"memory grew by {grown / 2**20:.1f} MiB"


def test_unknown_charsets_leave_no_trace_in_the_codec_registry() -> None:
    """``codecs.lookup`` remembers every name it failed to find: a new charset per request would grow it for good."""
    import encodings

    server = MockServer()
    client = Client(server)
    client.post("/nowhere/", data=b"{}", content_type="application/json; charset=x-warm-up")
    before = len(encodings._cache)
    for n in range(200):
        client.post("/api/projects/1/batch_exports/", data=b"{}", content_type=f"application/json; charset=x-{n}")
    assert len(encodings._cache) == before


@pytest.mark.parametrize("charset", ["punycode", "idna"])
def test_a_charset_whose_decoding_is_quadratic_is_read_as_utf_8(charset: str) -> None:
    """Punycode's digits decode in quadratic time (15 s for 400 KB, under no lock but the client's own):
    a JSON body never comes in it, so the fake reads such a body as UTF-8, as for a charset it does not know."""
    server = MockServer()
    tenant = server.store.create_tenant()
    body = b'{"name": "x", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}'
    response = Client(server).post(
        f"/api/projects/{tenant.project_id}/batch_exports/",
        data=body,
        headers={"Authorization": f"Bearer {tenant.api_key}", "Content-Type": f"application/json; charset={charset}"},
    )
    assert response.status_code == 201
