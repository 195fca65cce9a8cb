"""Secrets stay secret and the control plane stays local.

The journal keeps no secret (destination credentials, personal API keys) in any form,
and holds a bounded number of bytes; ``/_mock/`` answers only loopback clients unless
told otherwise; a planned fault cannot smuggle a header line into a response.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from support import Api, call
from werkzeug.test import Client

from mockserver import MockServer
from mockserver.fixtures import Factories
from mockserver.http.journal import Exchange, Journal

POSTGRES = {
    "name": "warehouse",
    "interval": "hour",
    "destination": {
        "type": "Postgres",
        "config": {
            "host": "db.example.com", "port": 5432, "database": "dwh", "schema": "public", "table_name": "events",
            "user": "loader-user-name", "password": "hunter2-very-secret",
        },
    },
}  # fmt: skip
SNOWFLAKE_KEY = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"


def everything_kept(server: MockServer) -> str:
    """All the journal holds, raw bytes and rendered entries alike, as one text."""
    parts = []
    for entry in server.journal.entries():
        parts += [repr(entry.request_data), repr(entry.response_data), repr(entry.request_headers), repr(entry.query)]
        parts.append(json.dumps(entry.to_dict(), default=str))
    return "\n".join(parts)


# -- the journal keeps no secret ------------------------------------------------------------


def test_destination_secrets_are_redacted_when_captured(api: Api, server: MockServer) -> None:
    api.post("/batch_exports/", json=POSTGRES)
    snowflake = {"type": "Snowflake", "config": {"private_key": SNOWFLAKE_KEY, "password": "snow-pass-1234"}}
    api.post("/batch_exports/", json={**POSTGRES, "destination": snowflake})
    s3 = {
        "type": "S3",
        "config": {"aws_access_key_id": "AKIAEXAMPLEKEY12", "aws_secret_access_key": "wJalrXUtn/K7MDENG"},
    }
    api.post("/batch_exports/", json={**POSTGRES, "destination": s3})
    kept = everything_kept(server)
    for secret in ("hunter2-very-secret", "loader-user-name", SNOWFLAKE_KEY, "snow-pass-1234", "AKIAEXAMPLEKEY12",
                   "wJalrXUtn/K7MDENG"):  # fmt: skip
        assert secret not in kept, secret
    first = server.journal.entries()[0]
    assert first.request_json["destination"]["config"]["password"] == "[redacted]"
    assert first.request_json["destination"]["config"]["host"] == "db.example.com"


def test_a_key_is_redacted_wherever_it_appears(api: Api, server: MockServer) -> None:
    key = api.tenant.api_key
    client = Client(server)
    client.get("/_mock/state/")  # the response holds every key
    client.post("/_mock/tenants/", json={})  # so does this one
    api.get("/batch_exports/", headers={"X-Note": key}, query_string={"personal_api_key": key, "q": key})
    api.post("/batch_exports/", json={**POSTGRES, "name": f"named {key}"})
    api.post("/batch_exports/", headers={}, data={"personal_api_key": key, "name": "x"})  # a form body
    api.post(
        "/batch_exports/", headers={},
        data={"personal_api_key": key, "file": (io.BytesIO(b"x"), "f.txt")},
        content_type="multipart/form-data",
    )  # fmt: skip
    kept = everything_kept(server)
    assert key[:8] in kept  # a prefix stays, to tell tenants apart
    assert key not in kept
    for other in server.store.api_keys:
        assert other not in kept


def test_the_journal_is_bounded_in_bytes_and_truncates_long_bodies() -> None:
    journal = Journal(1000, max_bytes=50_000, max_body_bytes=1000)
    for n in range(200):
        journal.capture(_exchange(n, b'{"name": "' + b"x" * 3000 + b'"}'))
    kept = journal.entries()
    assert sum(len(e.request_data or b"") + len(e.response_data or b"") for e in kept) <= 50_000
    assert kept[-1].path == "/199/" and len(kept) < 200
    body = kept[-1].request_json
    assert isinstance(body, str) and body.endswith("… [truncated: 3012 bytes in all]")
    assert kept[-1].request_size == 3012


def _exchange(n: int, data: bytes) -> Exchange:
    return Exchange(
        timestamp=None, method="POST", path=f"/{n}/", query_string=b"", environ_headers=(),
        request_data=data, request_size=len(data), status=201, response_headers=(),
        response_content_type="application/json", response_data=b"{}", response_size=2, operation_id=None,
        project_id=None, organization_id=None, fault_id=None, latency=0.0,
    )  # fmt: skip


def test_the_server_journal_keeps_sizes_of_truncated_bodies() -> None:
    server = MockServer(journal_body_bytes=100)
    api = Api(server, server.store.create_tenant())
    created = api.post("/batch_exports/", json={**POSTGRES, "name": "n" * 500})
    (entry,) = server.journal.entries(operation="batch_exports_create")
    assert entry.request_size > 500 and len(entry.request_data or b"") <= 100
    assert entry.response_size == len(created.data)
    assert str(entry.response_json).endswith(f"… [truncated: {len(created.data)} bytes in all]")


# -- the control plane answers loopback clients only -----------------------------------------


class client_at(Client):
    """A test client whose requests come from ``address``."""

    def __init__(self, server: MockServer, address: str) -> None:
        super().__init__(server)
        self.address = address

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("environ_base", {})["REMOTE_ADDR"] = self.address
        return super().open(*args, **kwargs)


@pytest.mark.parametrize("address", ["10.0.0.7", "192.168.1.20", "2001:db8::1", "::ffff:10.0.0.7"])
def test_the_control_plane_refuses_other_hosts(address: str) -> None:
    server = MockServer()
    tenant = server.store.create_tenant()
    before = call(server, "GET", "/_mock/state/").json
    for method, path in (("GET", "/_mock/state/"), ("POST", "/_mock/reset/"), ("GET", "/_mock/journal/")):
        response = client_at(server, address).open(path, method=method)
        assert (response.status_code, response.json["code"], response.json["type"]) == (
            403, "permission_denied", "authentication_error",
        ), path  # fmt: skip
        assert "this machine only" in response.json["detail"]
    assert call(server, "GET", "/_mock/state/").json == before  # the reset was refused
    # The PostHog API itself answers anyone.
    listing = client_at(server, address).get(
        f"/api/projects/{tenant.project_id}/batch_exports/", headers={"Authorization": f"Bearer {tenant.api_key}"}
    )
    assert listing.status_code == 200


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_the_control_plane_answers_loopback_clients(address: str) -> None:
    assert client_at(MockServer(), address).get("/_mock/state/").status_code == 200


def test_a_token_opens_the_control_plane_to_other_hosts() -> None:
    server = MockServer(control_plane_token="let-me-in-0123")
    remote = client_at(server, "10.0.0.7")
    assert remote.get("/_mock/state/").status_code == 403
    assert remote.get("/_mock/state/", headers={"X-Mock-Control-Token": "wrong"}).status_code == 403
    assert remote.get("/_mock/state/", headers={"X-Mock-Control-Token": "let-me-in-0123"}).status_code == 200
    assert "let-me-in-0123" not in everything_kept(server)


def test_a_token_with_non_ascii_characters_works_and_a_stray_byte_is_a_403() -> None:
    server = MockServer(control_plane_token="pässwort")
    remote = client_at(server, "10.0.0.7")
    # On the wire the header is the token's UTF-8 bytes; WSGI hands them over as ISO-8859-1 text.
    as_sent = "pässwort".encode().decode("latin-1")
    assert remote.get("/_mock/state/", headers={"X-Mock-Control-Token": as_sent}).status_code == 200
    assert remote.get("/_mock/state/", headers={"X-Mock-Control-Token": "p\xe9sswort"}).status_code == 403


def test_text_beyond_iso_8859_1_matches_no_token() -> None:
    """A server never hands such text over; in process it could, and a replacement "?" must not match."""
    from mockserver.http.guard import ControlPlaneGuard

    guard = ControlPlaneGuard("a?")
    environ = {"REMOTE_ADDR": "10.0.0.7", "HTTP_X_MOCK_CONTROL_TOKEN": "a\u0100"}
    assert not guard.allows(environ)
    assert guard.allows({**environ, "HTTP_X_MOCK_CONTROL_TOKEN": "a?"})


def test_a_downloads_files_answer_any_client_as_pre_signed_urls_do() -> None:
    """``…/download/`` redirects to ``/_mock/files/{id}/``, which a client in a container must be able to follow."""
    server = MockServer(control_plane_token="tok")
    tenant = server.store.create_tenant()
    make = Factories(server, tenant)
    download = make.file_download(start="2026-01-04T00:00:00Z", end="2026-01-05T00:00:00Z")
    server.store.clock.advance(3600)
    remote = client_at(server, "10.0.0.7")
    auth = {"Authorization": f"Bearer {tenant.api_key}"}
    redirect = remote.get(f"/api/projects/{tenant.project_id}/file_download_batch_exports/{download['id']}/download/",
                          headers=auth)  # fmt: skip
    assert redirect.status_code == 302, redirect.get_data(as_text=True)
    assert remote.get(redirect.headers["Location"]).status_code == 200
    assert remote.get("/_mock/state/").status_code == 403  # the rest of /_mock/ stays closed


def test_an_open_control_plane_must_be_asked_for() -> None:
    assert client_at(MockServer(open_control_plane=True), "10.0.0.7").get("/_mock/state/").status_code == 200


def test_serve_passes_the_control_plane_options_on() -> None:
    from mockserver.cli import build_parser

    args = build_parser().parse_args(["serve", "--control-plane-token", "t0k3n", "--unsafe-open-control-plane"])
    assert (args.control_plane_token, args.unsafe_open_control_plane) == ("t0k3n", True)


# -- planned faults cannot inject header lines ----------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "ok\r\nSet-Cookie: stolen=1"}, {"X-A": "line\nbreak"}, {"X-A\r\nX-B": "v"}, {"Bad Name": "v"},
     {"X-A": "nul\x00"}, {"": "v"}],
)  # fmt: skip
def test_fault_headers_with_line_breaks_or_bad_names_are_refused(api: Api, headers: dict[str, str]) -> None:
    response = api.post(
        "/_mock/faults/", json={"operation_id": "batch_exports_list", "status": 429, "headers": headers}
    )
    assert response.status_code == 400, response.json
    assert response.json["attr"] == "headers"
    assert api.get("/_mock/faults/").json["count"] == 0
    assert api.get("/batch_exports/").status_code == 200


def test_the_python_api_refuses_them_too(server: MockServer) -> None:
    with pytest.raises(ValueError, match="header"):
        server.faults.add("batch_exports_list", 429, headers={"X-A": "a\r\nB: c"})


def test_secret_fields_are_redacted_in_form_and_multipart_bodies_too(api: Api, server: MockServer) -> None:
    form = {"name": "x", "destination.type": "Postgres", "destination.config.password": "form-secret-99"}
    api.post("/batch_exports/", data=form)
    api.post(
        "/batch_exports/", data={**form, "destination.config.password": "multipart-secret-77",
                                 "file": (io.BytesIO(b"x"), "f.txt")},
        content_type="multipart/form-data",
    )  # fmt: skip
    kept = everything_kept(server)
    assert "form-secret-99" not in kept and "multipart-secret-77" not in kept
    assert kept.count("[redacted]") >= 2


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # JSON inside a form field, as the README's form syntax allows.
        ("application/x-www-form-urlencoded",
         "name=x&destination.type=Postgres&destination.config=%7B%22user%22%3A%22u%22%2C%22password%22%3A%22SECRET-1%22%7D"),
        ("multipart/form-data; boundary=B",
         '--B\r\nContent-Disposition: form-data; name="destination.config"\r\n\r\n'
         '{"password":"SECRET-1"}\r\n--B--\r\n'),
        # A key spelled with an escape.
        ("application/json", '{"name":"x","destination":{"type":"Postgres","config":{"pass\\u0077ord":"SECRET-1"}}}'),
        # Bodies the fake refuses: never parsed, still scrubbed.
        ("application/json", '{"destination":{"config":{"password":"SECRET-1"}}, oops'),
        ("application/json", "[" * 150 + '{"password":"SECRET-1"}' + "]" * 150),
        ("text/json", '{"destination":{"config":{"password":"SECRET-1"}}}'),
        # Escaped only in part: quotes and the colon left as they are, or escaped.
        ("application/x-www-form-urlencoded",
         'name=x&destination.type=Postgres&destination.config=%7B"host":"h","password"%3A"SECRET-1"%7D'),
        ("application/x-www-form-urlencoded", "name=x&destination.config.pass%77ord=SECRET-1"),
        # A JSON part whose key is escaped, and a part whose name is not quoted.
        ("multipart/form-data; boundary=B",
         '--B\r\nContent-Disposition: form-data; name="destination.config"\r\n\r\n'
         '{"pass\\u0077ord":"SECRET-1"}\r\n--B--\r\n'),
        ("multipart/form-data; boundary=B",
         "--B\r\nContent-Disposition: form-data; name=destination.config.password\r\n\r\nSECRET-1\r\n--B--\r\n"),
        ("multipart/form-data; boundary=B",
         '--B\r\nContent-Disposition: form-data; name="destination.config.password"; filename="p.txt"\r\n\r\n'
         "SECRET-1\r\n--B--\r\n"),
    ],
    ids=["form-json-field", "multipart-json-part", "escaped-key", "invalid-json", "too-deep", "text-json",
         "form-json-half-escaped", "form-escaped-name", "multipart-escaped-key", "multipart-unquoted-name",
         "multipart-file-part"],
)  # fmt: skip
def test_a_secret_is_redacted_however_the_body_carries_it(
    api: Api, server: MockServer, content_type: str, body: str
) -> None:
    api.post("/batch_exports/", data=body.encode(), content_type=content_type)
    kept = everything_kept(server)
    assert "SECRET-1" not in kept
    assert "[redacted]" in kept or "%5Bredacted%5D" in kept


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_body_in_another_charset_is_redacted_as_the_api_reads_it(api: Api, server: MockServer, encoding: str) -> None:
    """Named in the Content-Type, the charset is how the body is read, and redacted; not named, the
    body is not UTF-8 JSON (400) and the journal keeps none of it."""
    body = {**POSTGRES, "personal_api_key": api.tenant.api_key}
    raw = json.dumps(body).encode(encoding)
    named = api.post("/batch_exports/", data=raw, content_type=f"application/json; charset={encoding}")
    unnamed = api.post("/batch_exports/", data=raw, content_type="application/json")

    assert named.status_code == 400  # the Postgres destination needs an integration: read, then judged
    assert named.json["attr"] == "destination"
    assert unnamed.status_code == 400 and unnamed.json["code"] == "parse_error"
    kept = everything_kept(server) + Client(server).get("/_mock/journal/").get_data(as_text=True)
    raw = b"".join(e.request_data or b"" for e in server.journal.entries())
    for secret in ("hunter2-very-secret", "loader-user-name", api.tenant.api_key[8:]):
        assert secret not in kept
        assert "\\u0000".join(secret) not in kept  # UTF-16 without a BOM: NULs between the letters
        assert secret.encode(encoding)[4:-4] not in raw
    first = server.journal.entries()[0]
    assert first.request_json["destination"]["config"]["password"] == "[redacted]"


def test_a_key_in_the_query_is_cut_to_its_prefix_however_it_is_escaped(api: Api, server: MockServer) -> None:
    key = api.tenant.api_key
    escaped = key.replace("_", "%5F")
    response = api.get("/batch_exports/", headers={}, query_string=f"personal%5Fapi%5Fkey={escaped}")
    assert response.status_code == 200
    response = api.get("/batch_exports/", query_string=f"note=%{ord(key[0]):02X}{key[1:]}")
    assert response.status_code == 200
    kept = everything_kept(server)
    assert key not in kept and key[4:] not in kept and escaped not in kept


@pytest.mark.parametrize("name", ["X-Mock-Control-Token", "x_mock_control_token", "X%2DMock%2DControl%2DToken"])
def test_a_control_token_sent_in_the_query_is_not_kept(name: str) -> None:
    """The guard reads only the header; a client that puts the token in the query must not leave it behind."""
    server = MockServer(control_plane_token="TOKEN-abc-123456")
    response = Client(server).get(f"/_mock/clock/?{name}=TOKEN-abc-123456")
    assert response.status_code == 200  # a loopback caller: the token was not needed
    assert "TOKEN-abc-123456" not in everything_kept(server)


def test_a_form_reads_back_as_sent_around_what_was_redacted(api: Api, server: MockServer) -> None:
    """UTF-8 text outside the secret fields is not garbled, and a key escaped in a value is cut too."""
    key = api.tenant.api_key
    body = f"name=été&destination.config.password=SECRET-2&note={key.replace('_', '%5F')}".encode()
    api.post("/batch_exports/", data=body, content_type="application/x-www-form-urlencoded")
    (entry,) = [e for e in server.journal.entries() if e.method == "POST"]
    assert entry.request_data is not None
    kept = entry.request_data.decode() if isinstance(entry.request_data, bytes) else str(entry.request_data)
    assert "SECRET-2" not in kept and key[4:] not in kept
    assert "name=%C3%A9t%C3%A9" in kept  # é once, UTF-8 escaped, not é


def test_a_multipart_part_without_a_name_leaves_the_journal_readable(api: Api, server: MockServer) -> None:
    body = b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--\r\n"
    api.post("/batch_exports/", data=body, content_type="multipart/form-data; boundary=B")
    assert call(server, "GET", "/_mock/journal/").status_code == 200
    assert server.errors == []
