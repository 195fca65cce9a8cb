"""The request journal: the last N requests and responses, for assertions.

Every request the fake answers is recorded, errors and 404 routes included, except
reads and clears of the journal itself (looking must not change what you look at).
The journal is bounded twice, in entries (1000 by default) and in bytes of bodies kept
(64 MiB); the oldest entries fall off first. A body longer than 256 KiB keeps its start
and its size only, and reads back as text ending ``… [truncated: N bytes in all]``.
It lives in one :class:`~mockserver.http.app.MockServer`; ``store.reset()`` empties it.

Entries keep the raw bytes and decode them only when read, so recording stays cheap::

    entry = server.journal.entries(operation="batch_exports_create")[-1]
    assert entry.status == 201 and entry.request_json["name"] == "my export"

Secrets never enter it: they are redacted as an exchange is captured, before it is
kept. A personal API key keeps a short prefix only (``phx_AbCd…``), enough to tell
tenants apart, wherever it appears (headers, query string, body, response); the
destination fields the API never returns (passwords, tokens, private keys, AWS keys:
:data:`~mockserver.domain.destinations.SECRET_FIELDS`) read ``[redacted]`` in JSON,
form and multipart bodies alike, and so does the control plane's token header.
Everything else (parsing, header naming) waits until someone reads the journal.

>>> journal = Journal(max_entries=2)
>>> for n in range(3):
...     _ = journal.record(JournalEntry(id=0, timestamp="2026-01-05T12:00:00Z", method="GET", path=f"/{n}/",
...                                     query=(), operation_id=None, status=404))
>>> [e.path for e in journal.entries()], len(journal)
(['/1/', '/2/'], 2)
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote_from_bytes, unquote_to_bytes, urlencode

import orjson
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, MultipartEncoder, NeedData

from mockserver.domain.dates import format_datetime
from mockserver.domain.destinations import SECRET_FIELDS
from mockserver.http.body import json_too_deep
from mockserver.http.spec import canonical_name, unknown_operation

__all__ = [
    "CONTROL_TOKEN_HEADER",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "Exchange",
    "HeaderPicker",
    "Journal",
    "JournalEntry",
    "redact",
    "redact_authorization",
    "scrub_query",
    "scrub",
]

DEFAULT_MAX_ENTRIES = 1000
#: Bytes of bodies (requests and responses) the journal keeps in all.
DEFAULT_MAX_BYTES = 64 << 20
#: Bytes of one body kept; a longer body keeps its start and its size.
DEFAULT_MAX_BODY_BYTES = 256 << 10
#: Bytes an entry costs beyond its bodies (headers, path, bookkeeping), for the byte bound.
_ENTRY_OVERHEAD = 512
#: The header that carries the control plane's token (``serve --control-plane-token``).
CONTROL_TOKEN_HEADER = "X-Mock-Control-Token"
#: What a secret value reads as.
REDACTED = "[redacted]"
#: Field names whose values are secrets, wherever they appear.
SECRET_NAMES = frozenset().union(*SECRET_FIELDS.values())
#: Characters of a secret kept by redaction (``phx_`` plus four).
_SECRET_PREFIX = 8


def redact(secret: str) -> str:
    """A secret's first few characters and an ellipsis.

    >>> redact("phx_0123456789abcdef")
    'phx_0123…'
    """
    return secret[:_SECRET_PREFIX] + "…" if len(secret) > _SECRET_PREFIX else "…"


def redact_authorization(value: str) -> str:
    """``Bearer phx_0123456789`` → ``Bearer phx_0123…`` (the scheme stays readable).

    >>> redact_authorization("Bearer phx_0123456789abcdef")
    'Bearer phx_0123…'
    """
    scheme, space, token = value.partition(" ")
    return f"{scheme} {redact(token.strip())}" if space else redact(value)


_KEY = re.compile(r"(phx_[A-Za-z0-9]{4})[A-Za-z0-9]+")
_KEY_BYTES = re.compile(rb"(phx_[A-Za-z0-9]{4})[A-Za-z0-9]+")
_ELLIPSIS = "…".encode()
#: A secret field's name as a JSON key (any body that has none is left as it is).
_SECRET_JSON_KEY = re.compile(rb'"(?:%s)"\s*:' % b"|".join(re.escape(n.encode()) for n in sorted(SECRET_NAMES)))
#: One multipart field named like a secret: its headers, then its value up to the boundary.
_SECRET_PART = re.compile(
    rb'(name="(?:[^"]*[.\[])?(?:%s)\]?"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n).*?(?=\r\n--)'
    % b"|".join(re.escape(n.encode()) for n in sorted(SECRET_NAMES)),
    re.DOTALL,
)
_PERSONAL_KEY_PARAM = re.compile(rb"((?:^|&)personal_api_key=)([^&]{0,8})[^&]*")
#: A secret field's string value in JSON text, wherever the text is: a body that could not
#: be parsed (invalid, too deep, another media type), or JSON inside a form field.
_SECRET_JSON_STRING = re.compile(
    rb'("(?:%s)"\s*:\s*)"(?:[^"\\]|\\.)*"' % b"|".join(re.escape(n.encode()) for n in sorted(SECRET_NAMES))
)


def redact_keys(text: str) -> str:
    """Every personal API key in ``text`` cut to its prefix.

    >>> redact_keys("key=phx_0123456789abcdef, again phx_0123456789abcdef")
    'key=phx_0123…, again phx_0123…'
    """
    return _KEY.sub(r"\1…", text) if "phx_" in text else text


def _redact_key_bytes(data: bytes) -> bytes:
    return _KEY_BYTES.sub(rb"\1" + _ELLIPSIS, data) if b"phx_" in data else data


def _redact_json(value: Any) -> Any:
    """A JSON value with every secret field's value replaced, at any depth."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_NAMES and v is not None else _redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def _redact_form_field(name: str | None, value: str) -> str:
    last = re.split(r"[.\[\]]+", (name or "").strip("]"))[-1]
    if last == "personal_api_key":
        return redact(value)
    if last in SECRET_NAMES:
        return REDACTED
    # A field whose value is JSON (``destination.config={"password": …}``) is scrubbed as JSON.
    if value.lstrip()[:1] in ("{", "["):
        return scrub(value.encode("utf-8", "surrogateescape"), "application/json").decode("utf-8", "surrogateescape")
    return redact_keys(value)


def scrub(data: bytes, content_type: str) -> bytes:
    """``data`` with every secret redacted (keys to their prefix, secret fields to ``[redacted]``).

    >>> scrub(b'{"config": {"password": "hunter2", "host": "db"}}', "application/json")
    b'{"config":{"password":"[redacted]","host":"db"}}'
    >>> scrub(b"personal_api_key=phx_0123456789abcdef&name=x", "application/x-www-form-urlencoded")
    b'personal_api_key=phx_0123%E2%80%A6&name=x'
    """
    if not data:
        return data
    media = content_type.split(";", 1)[0].strip().lower()
    if (media in ("", "application/json") and not _is_utf8(data)) or (b"\x00" in data and media != _MULTIPART):
        # Not text as the API reads it (the app has turned a JSON body in a named charset into
        # UTF-8 already; UTF-16 without a BOM is ASCII with NULs between the letters, which no
        # pattern for a secret's name matches): what cannot be read cannot be redacted, so none
        # of it is kept. Multipart file parts are binary; their parts are scrubbed one by one.
        return b""
    # A key may be spelled with escapes (``"pass\\u0077ord"``): such a body is parsed to see.
    maybe_secret = _SECRET_JSON_KEY.search(data) is not None or b"\\u" in data
    if media in ("", "application/json") and maybe_secret and not json_too_deep(data):
        try:
            document = json.loads(data.decode("utf-8-sig"))  # as the API reads it: UTF-8 only
        except ValueError:
            pass  # not JSON after all: only keys are redacted
        else:
            try:
                data = orjson.dumps(_redact_json(document))
            except orjson.JSONEncodeError:
                data = json.dumps(_redact_json(document), separators=(",", ":")).encode()
    elif media == "application/x-www-form-urlencoded":
        # Read as the API reads it (names and values unescaped; a value may hold JSON,
        # ``destination.config={…}``), and written back only where something was redacted.
        # UTF-8 both ways, any byte kept (surrogateescape): text outside the redacted fields
        # reads back as it was sent.
        text = data.decode("utf-8", "surrogateescape")
        fields = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")
        redacted = [(k, _redact_form_field(k, v)) for k, v in fields]
        if redacted != fields:
            data = urlencode(redacted, encoding="utf-8", errors="surrogateescape").encode("ascii")
    elif media == _MULTIPART:
        data = _scrub_multipart(data, content_type)
    # Whatever was not parsed above (invalid or too deep JSON, text/json, JSON in a form part)
    # may still hold a secret field: its string value goes, wherever it is.
    if _SECRET_JSON_KEY.search(data):
        data = _SECRET_JSON_STRING.sub(rb'\1"' + REDACTED.encode() + rb'"', data)
    return _redact_key_bytes(data)


_MULTIPART = "multipart/form-data"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _scrub_multipart(data: bytes, content_type: str) -> bytes:
    """A multipart body with every secret field redacted, its parts read as the API reads them.

    Unquoted names and JSON values with escaped keys included; the body is written again only
    where something was redacted. One that does not parse falls back to a pattern.
    """
    boundary = parse_options_header(content_type)[1].get("boundary")
    if not boundary:
        return _SECRET_PART.sub(rb"\1" + REDACTED.encode(), data)
    try:
        decoder = MultipartDecoder(boundary.encode("latin-1"))
        decoder.receive_data(data)
        decoder.receive_data(None)
        events: list[Any] = []
        while True:
            event = decoder.next_event()
            if isinstance(event, NeedData):
                return _SECRET_PART.sub(rb"\1" + REDACTED.encode(), data)  # cut short
            events.append(event)
            if isinstance(event, Epilogue):
                break
    except Exception:  # noqa: BLE001 - any body a client sent; redaction must never fail on it
        return _SECRET_PART.sub(rb"\1" + REDACTED.encode(), data)
    changed = False
    parts: list[Any] = []  # Preamble, then (Field or File, its bytes) pairs, then Epilogue
    for event in events:
        if isinstance(event, Data):
            parts[-1][1].extend(event.data)
        elif isinstance(event, (Field, File)):
            parts.append((event, bytearray()))
        else:
            parts.append(event)
    for index, part in enumerate(parts):
        if isinstance(part, tuple):  # a field or a file: either may carry a secret by name or as JSON
            value = bytes(part[1]).decode("utf-8", "surrogateescape")
            redacted = _redact_form_field(part[0].name, value)
            if redacted != value:
                parts[index] = (part[0], bytearray(redacted.encode("utf-8", "surrogateescape")))
                changed = True
    if not changed:
        return data
    encoder = MultipartEncoder(boundary.encode("latin-1"))
    out = bytearray()
    for part in parts:
        if isinstance(part, tuple):
            out += encoder.send_event(part[0])
            out += encoder.send_event(Data(data=bytes(part[1]), more_data=False))
        else:
            out += encoder.send_event(part)
    return bytes(out)


def scrub_query(query: str) -> str:
    """A query string (as WSGI gives it) with every personal API key cut to its prefix.

    >>> scrub_query("personal_api_key=phx_0123456789abcdef&limit=1")
    'personal_api_key=phx_0123%E2%80%A6&limit=1'
    """
    return _scrub_query(query.encode("latin-1", "replace")).decode("utf-8", "replace")


#: The control plane's token sent as a query parameter (the guard reads only the header, but a
#: client that sends it this way must not see it kept): any case, ``-`` or ``_``.
_TOKEN_PARAM = CONTROL_TOKEN_HEADER.lower().replace("-", "_").encode()


def _scrub_query(query: bytes) -> bytes:
    if b"%" in query or b"+" in query or b"token" in query.lower():
        # Escapes may spell the name or the key (``personal%5Fapi%5Fkey=phx%5F…``): each
        # parameter is read as the API reads it, and a changed one is written back escaped.
        return b"&".join(_scrub_parameter(part) for part in query.split(b"&"))
    if b"personal_api_key=" in query:
        query = _PERSONAL_KEY_PARAM.sub(rb"\1\2%E2%80%A6", query)
    return _redact_key_bytes(query)


def _scrub_parameter(part: bytes) -> bytes:
    raw_name, equals, raw_value = part.partition(b"=")
    name = unquote_to_bytes(raw_name.replace(b"+", b" "))
    value = unquote_to_bytes(raw_value.replace(b"+", b" "))
    if name == b"personal_api_key":
        return raw_name + equals + quote_from_bytes(value[:8]).encode() + b"%E2%80%A6"
    if name.lower().replace(b"-", b"_") == _TOKEN_PARAM:
        return raw_name + equals + b"%E2%80%A6"
    redacted = _redact_key_bytes(value)
    if redacted == value:
        return part
    return raw_name + equals + quote_from_bytes(redacted).encode()


def _scrub_header(key: str, value: str) -> str:
    if key == "HTTP_AUTHORIZATION":
        return redact_authorization(value)
    if key == _TOKEN_ENVIRON_KEY:
        return "…"
    return redact_keys(value)


_TOKEN_ENVIRON_KEY = "HTTP_" + CONTROL_TOKEN_HEADER.upper().replace("-", "_")


def _decode(data: bytes | None, content_type: str, truncated_from: int = 0) -> Any:
    """JSON bodies parsed; other text as text; binary as ``None`` (see the entry's size).

    A body kept only in part (``truncated_from``: its whole size) reads as the text it
    starts with and a marker that says how long it was.

    JSON nested deeper than the API accepts stays text: parsed, it could not be written
    back out (or checked against the spec) without recursing past Python's limit.
    """
    if not data:
        return None
    if truncated_from:
        return data.decode("utf-8", "replace") + f"… [truncated: {truncated_from} bytes in all]"
    if (content_type.startswith("application/json") or not content_type) and not json_too_deep(data):
        try:
            # UTF-8 only (the app turned a body in a named charset into UTF-8 first): bytes in
            # another encoding are not read, so never shown unredacted. A BOM is skipped here,
            # for reading; the API refuses such a body.
            return json.loads(data.decode("utf-8-sig"))
        except ValueError:
            pass
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class JournalEntry:
    """One request and its response.

    ``operation_id`` is the spec's operationId as routed (``None`` when no route
    matched); :attr:`operation` is its canonical form, shared by the project,
    environment and organization URLs.
    """

    id: int
    #: When the request arrived on the fake's (virtual) clock, ISO 8601.
    timestamp: str
    method: str
    path: str
    #: Query parameters in order, secrets redacted.
    query: tuple[tuple[str, str], ...]
    operation_id: str | None
    status: int
    #: The project the URL resolved to (team-level URLs), once the key was let in: authenticated,
    #: with the operation's scope, and a member of the project's organization.
    project_id: int | None = None
    #: The organization the URL resolved to (organization-level URLs), on the same terms.
    organization_id: str | None = None
    #: Request headers sorted by name, ``Authorization`` redacted.
    request_headers: tuple[tuple[str, str], ...] = ()
    request_content_type: str = ""
    request_data: bytes | None = None
    request_size: int = 0
    response_headers: tuple[tuple[str, str], ...] = ()
    response_content_type: str = ""
    response_data: bytes | None = None
    response_size: int = 0
    #: Id of the planned fault that answered instead of the handler, if any.
    fault_id: int | None = None
    #: Wall seconds the response was delayed by a latency rule.
    latency: float = 0.0
    #: Whether only the start of the body was kept (see the sizes for the whole).
    request_truncated: bool = False
    response_truncated: bool = False
    #: The organization of the personal API key that authenticated the request, if one did
    #: (whose call a refused request was: ``PostHogMock.calls`` counts a tenant's own).
    key_organization_id: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def operation(self) -> str | None:
        return canonical_name(self.operation_id) if self.operation_id else None

    @property
    def request_json(self) -> Any:
        """The request body decoded (JSON, else text; secrets were redacted when captured)."""
        if "request" not in self._cache:
            self._cache["request"] = _decode(
                self.request_data, self.request_content_type, self.request_size if self.request_truncated else 0
            )
        return self._cache["request"]

    @property
    def response_json(self) -> Any:
        """The response body decoded (JSON, else text; ``None`` when empty or binary)."""
        if "response" not in self._cache:
            self._cache["response"] = _decode(
                self.response_data, self.response_content_type, self.response_size if self.response_truncated else 0
            )
        return self._cache["response"]

    def to_dict(self) -> dict[str, Any]:
        """The entry as ``GET /_mock/journal/`` shows it (``JournalEntry`` in the spec)."""
        query: dict[str, list[str]] = {}
        for name, value in self.query:
            query.setdefault(name, []).append(value)
        return {
            "id": self.id,
            "timestamp": self.timestamp,
            "method": self.method,
            "path": self.path,
            "query": query,
            "operation_id": self.operation_id,
            "operation": self.operation,
            "project_id": self.project_id,
            "organization_id": self.organization_id,
            "status": self.status,
            "request_headers": dict(self.request_headers),
            "request_body": self.request_json,
            "request_size": self.request_size,
            "response_headers": dict(self.response_headers),
            "response_body": self.response_json,
            "response_size": self.response_size,
            "fault_id": self.fault_id,
            "latency": self.latency,
        }


@dataclass(slots=True)
class Exchange:
    """One request/response as captured on the hot path: raw, unredacted, unparsed.

    Capturing costs a few microseconds; the journal redacts and :meth:`entry` parses
    when (and only if) someone reads the journal. Never changed once captured (the
    journal makes a redacted copy), but not declared frozen: a frozen dataclass sets
    each of its twenty fields through ``object.__setattr__``, which made building one
    cost 2.7 µs instead of 1.0 µs, on every request.
    """

    timestamp: datetime | None
    method: str
    path: str
    query_string: bytes
    #: The WSGI environ's header items (``HTTP_*``, ``CONTENT_TYPE``, ``CONTENT_LENGTH``), sorted by key.
    environ_headers: tuple[tuple[str, str], ...]
    #: The body as received (the journal redacts and truncates it before anyone reads it).
    request_data: bytes | None
    request_size: int
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_content_type: str
    response_data: bytes | None
    response_size: int
    operation_id: str | None
    project_id: int | None
    organization_id: str | None
    fault_id: int | None
    latency: float
    request_truncated: bool = False
    response_truncated: bool = False
    #: Whether the journal has redacted secrets and cut the bodies to its limit already.
    redacted: bool = False
    key_organization_id: str | None = None

    def entry(self, entry_id: int) -> JournalEntry:
        headers = []
        content_type = ""
        for key, value in self.environ_headers:
            # werkzeug's EnvironHeaders naming: HTTP_X_API_KEY -> X-Api-Key.
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            if name == "Content-Type":
                content_type = value
            headers.append((name, value))
        query = tuple(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True))
        return JournalEntry(
            id=entry_id,
            timestamp=format_datetime(self.timestamp) or "",
            method=self.method,
            path=self.path,
            query=query,
            operation_id=self.operation_id,
            status=self.status,
            project_id=self.project_id,
            organization_id=self.organization_id,
            request_headers=tuple(headers),
            request_content_type=content_type.split(";")[0].strip().lower(),
            request_data=self.request_data,
            request_size=self.request_size,
            response_headers=self.response_headers,
            response_content_type=self.response_content_type,
            response_data=self.response_data,
            response_size=self.response_size,
            fault_id=self.fault_id,
            latency=self.latency,
            request_truncated=self.request_truncated,
            response_truncated=self.response_truncated,
            key_organization_id=self.key_organization_id,
        )


class HeaderPicker:
    """The header items of a WSGI environ (``HTTP_*``, non-empty ``CONTENT_TYPE``/``CONTENT_LENGTH``), by name.

    A server may put far more than headers into an environ: granian copies the whole
    process environment into every request's, sixty keys where a request has five
    headers. Whether a key other than the two ``CONTENT_*`` ones is a header depends on
    its name alone, so the picker remembers the names that are not (up to ``limit`` of
    them) and sets them aside in one C-level set difference: a third to a half of the
    cost of looking at each key, on every request.

    >>> pick = HeaderPicker()
    >>> pick({"PATH": "/bin", "HTTP_HOST": "h", "CONTENT_TYPE": "", "HTTP_ACCEPT": "*/*"})
    (('HTTP_ACCEPT', '*/*'), ('HTTP_HOST', 'h'))
    """

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._not_headers: set[str] = set()

    def __call__(self, environ: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        """The header items, sorted by key (an environ's own order says nothing about the request)."""
        picked = []
        not_headers = self._not_headers
        for key in environ.keys() - not_headers:
            if key in _CONTENT_KEYS:
                if environ[key]:
                    picked.append((key, environ[key]))
            elif key[:5] == "HTTP_" and key not in _CONTENT_HTTP_KEYS:
                picked.append((key, environ[key]))
            elif len(not_headers) < self.limit:
                not_headers.add(key)
        picked.sort()
        return tuple(picked)


_CONTENT_KEYS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
#: What some servers add beside ``CONTENT_*``; werkzeug's headers read the latter.
_CONTENT_HTTP_KEYS = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})


class Journal:
    """A bounded, thread-safe log of :class:`JournalEntry`, oldest first.

    Args:
        max_entries: how many entries to keep; ``0`` records nothing.
        operations: canonical operation names a filter may name (``None``: any name).
        max_bytes: bytes of bodies to keep in all (entries count a little more for their
            headers); the oldest entries fall off to stay under it.
        max_body_bytes: bytes of one body to keep; a longer one keeps its start.
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        operations: Collection[str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        if max_bytes < 0 or max_body_bytes < 0:
            raise ValueError("max_bytes and max_body_bytes must be >= 0")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_body_bytes = max_body_bytes
        self._operations = frozenset(operations) if operations is not None else None
        #: ``(id, entry or exchange, bytes)``: exchanges become entries when first read.
        self._entries: deque[tuple[int, JournalEntry | Exchange, int]] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._next_id = 1

    def record(self, entry: JournalEntry) -> JournalEntry:
        """Append ``entry`` with the next id (ids keep counting as old entries fall off)."""
        with self._lock:
            entry = replace(entry, id=self._next_id)
            self._next_id += 1
            self._keep(entry.id, entry)
            return entry

    def capture(self, exchange: Exchange) -> None:
        """Append a raw exchange; redacting and parsing are left for its first reader.

        Every request is captured and few are ever read, so the hot path only appends:
        redacting costs more than the rest of a typical request's journaling (a third of
        a list request, measured). The raw exchange is counted against ``max_bytes`` at
        its full size until then. A body over ``max_body_bytes`` is redacted and cut at
        once, so that no more than that is ever held per body.
        """
        if not self.max_entries:
            with self._lock:
                self._next_id += 1
            return
        limit = self.max_body_bytes
        if len(exchange.request_data or b"") > limit or len(exchange.response_data or b"") > limit:
            exchange = self._scrubbed(exchange)
        with self._lock:
            self._keep(self._next_id, exchange)
            self._next_id += 1

    def _scrubbed(self, exchange: Exchange) -> Exchange:
        request_type = next((v for k, v in exchange.environ_headers if k == "CONTENT_TYPE"), "")
        response_data = exchange.response_data
        if response_data is not None and exchange.response_content_type in ("", "application/json"):
            response_data = scrub(response_data, exchange.response_content_type)
        limit = self.max_body_bytes
        request_data = scrub(exchange.request_data, request_type) if exchange.request_data else exchange.request_data
        return replace(
            exchange,
            environ_headers=tuple((k, _scrub_header(k, v)) for k, v in exchange.environ_headers),
            query_string=_scrub_query(exchange.query_string),
            request_data=request_data[:limit] if request_data is not None else None,
            request_truncated=request_data is not None and len(request_data) > limit,
            response_headers=tuple((k, redact_keys(v)) for k, v in exchange.response_headers),
            response_data=response_data[:limit] if response_data is not None else None,
            response_truncated=response_data is not None and len(response_data) > limit,
            redacted=True,
        )

    def _keep(self, entry_id: int, item: JournalEntry | Exchange) -> None:
        """Append (under the lock) and drop the oldest entries beyond either bound."""
        if not self.max_entries:
            return
        size = len(item.request_data or b"") + len(item.response_data or b"") + _ENTRY_OVERHEAD
        self._entries.append((entry_id, item, size))
        self._bytes += size
        while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            self._bytes -= self._entries.popleft()[2]

    def _materialized(self) -> list[JournalEntry]:
        """Every kept entry as a :class:`JournalEntry`, converting (and redacting) exchanges once.

        The conversion runs outside the lock: redacting a few hundred large bodies takes
        most of a second, and every request's :meth:`capture` waits on this lock. The
        converted entries then replace their exchanges, unless they fell off meanwhile.
        """
        with self._lock:
            kept = list(self._entries)
        converted: dict[int, JournalEntry] = {}
        out = []
        for entry_id, item, _size in kept:
            if isinstance(item, Exchange):
                item = converted[entry_id] = (item if item.redacted else self._scrubbed(item)).entry(entry_id)
            out.append(item)
        if converted:
            with self._lock:
                for index, (entry_id, item, size) in enumerate(self._entries):
                    if isinstance(item, Exchange) and entry_id in converted:
                        self._entries[index] = (entry_id, converted[entry_id], size)
        return out

    def entries(
        self,
        *,
        operation: str | None = None,
        project_id: int | None = None,
        method: str | None = None,
        status: int | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Matching entries, oldest first; ``limit`` keeps the most recent ones.

        Args:
            operation: an operationId in any spelling (every URL of the operation matches);
                an unknown name raises :class:`ValueError` rather than matching nothing.
            project_id: requests whose URL resolved to this project.
            method: HTTP method, any case.
            status: response status.
            since: only entries with a larger id (poll for "what happened after …").
            limit: at most this many, the most recent.
        """
        wanted = canonical_name(operation) if operation else None
        if operation and self._operations is not None and wanted not in self._operations:
            raise unknown_operation(operation, self._operations, what="the fake")
        found = [
            e
            for e in self._materialized()
            if (wanted is None or e.operation == wanted)
            and (project_id is None or e.project_id == project_id)
            and (method is None or e.method == method.upper())
            and (status is None or e.status == status)
            and (since is None or e.id > since)
        ]
        return found[-limit:] if limit else found

    @property
    def last_id(self) -> int:
        """Id of the newest entry ever recorded (0 if none): pass it as ``since`` later."""
        return self._next_id - 1

    @property
    def first_id(self) -> int:
        """Id of the oldest entry kept (``last_id + 1`` when none is): entries with smaller ids
        fell off, or were cleared."""
        with self._lock:
            return self._entries[0][0] if self._entries else self._next_id

    @property
    def size_bytes(self) -> int:
        """What the kept entries count against ``max_bytes``."""
        return self._bytes

    def clear(self) -> None:
        """Drop every entry (ids keep counting, so ``since`` stays meaningful)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def reset(self) -> None:
        """Drop every entry and restart ids at 1 (``store.reset()``)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._next_id = 1

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())
