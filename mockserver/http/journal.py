"""The request journal: the last N requests and responses, for assertions.

Every request the fake answers is recorded, errors and 404 routes included, except
reads and clears of the journal itself (looking must not change what you look at).
The journal is bounded (1000 entries by default; the oldest fall off) and lives in one
:class:`~mockserver.http.app.MockServer`; ``store.reset()`` empties it.

Entries keep the raw bytes and decode them only when read, so recording stays cheap::

    entry = server.journal.entries(operation="batch_exports_create")[-1]
    assert entry.status == 201 and entry.request_json["name"] == "my export"

Secrets are redacted before anyone sees an entry: the ``Authorization`` header and a
``personal_api_key`` in the query string or the JSON body keep a short prefix only
(``Bearer phx_AbCd…``), enough to tell tenants apart. (Raw exchanges are kept inside the
journal and redacted when first read, which keeps recording cheap.)

>>> journal = Journal(max_entries=2)
>>> for n in range(3):
...     _ = journal.record(JournalEntry(id=0, timestamp="2026-01-05T12:00:00Z", method="GET", path=f"/{n}/",
...                                     query=(), operation_id=None, status=404))
>>> [e.path for e in journal.entries()], journal.count()
(['/1/', '/2/'], 2)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from mockserver.domain.dates import format_datetime
from mockserver.http.body import json_too_deep
from mockserver.http.spec import canonical_name

__all__ = ["DEFAULT_MAX_ENTRIES", "Exchange", "Journal", "JournalEntry", "redact", "redact_authorization"]

DEFAULT_MAX_ENTRIES = 1000
#: Bodies larger than this are not kept (only their size is): the journal stays small.
MAX_BODY_BYTES = 1 << 20
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


def _decode(data: bytes | None, content_type: str) -> Any:
    """JSON bodies parsed; other text as text; binary as ``None`` (see the entry's size).

    JSON nested deeper than the API accepts stays text: parsed, it could not be written
    back out (or checked against the spec) without recursing past Python's limit.
    """
    if not data:
        return None
    if (content_type.startswith("application/json") or not content_type) and not json_too_deep(data):
        try:
            return json.loads(data)
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
    #: The project the URL resolved to (team-level URLs), once authentication passed.
    project_id: int | None = None
    #: The organization the URL resolved to (organization-level URLs).
    organization_id: str | None = None
    #: Request headers in order, ``Authorization`` redacted.
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
    _cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def operation(self) -> str | None:
        return canonical_name(self.operation_id) if self.operation_id else None

    @property
    def request_json(self) -> Any:
        """The request body decoded (JSON, else text), ``personal_api_key`` redacted."""
        if "request" not in self._cache:
            body = _decode(self.request_data, self.request_content_type)
            if isinstance(body, dict) and isinstance(body.get("personal_api_key"), str):
                body = {**body, "personal_api_key": redact(body["personal_api_key"])}
            self._cache["request"] = body
        return self._cache["request"]

    @property
    def response_json(self) -> Any:
        """The response body decoded (JSON, else text; ``None`` when empty or binary)."""
        if "response" not in self._cache:
            self._cache["response"] = _decode(self.response_data, self.response_content_type)
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


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request/response as captured on the hot path: raw, unredacted, unparsed.

    Capturing costs a few microseconds; :meth:`entry` does the redacting and parsing
    when (and only if) someone reads the journal.
    """

    timestamp: datetime | None
    method: str
    path: str
    query_string: bytes
    #: The WSGI environ's header items (``HTTP_*``, ``CONTENT_TYPE``, ``CONTENT_LENGTH``), as they came.
    environ_headers: tuple[tuple[str, str], ...]
    #: Bodies over :data:`MAX_BODY_BYTES` are not kept (``None``); their sizes are.
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

    def entry(self, entry_id: int) -> JournalEntry:
        headers = []
        content_type = ""
        for key, value in self.environ_headers:
            # werkzeug's EnvironHeaders naming: HTTP_X_API_KEY -> X-Api-Key.
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            if name == "Content-Type":
                content_type = value
            headers.append((name, redact_authorization(value) if name == "Authorization" else value))
        query = tuple(
            (name, redact(value) if name == "personal_api_key" else value)
            for name, value in parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True)
        )
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
        )


class Journal:
    """A bounded, thread-safe log of :class:`JournalEntry`, oldest first.

    Args:
        max_entries: how many entries to keep; ``0`` records nothing.
        operations: canonical operation names a filter may name (``None``: any name).
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, *, operations: Collection[str] | None = None) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.max_entries = max_entries
        self._operations = frozenset(operations) if operations is not None else None
        #: ``(id, entry or exchange)``: exchanges become entries when first read.
        self._entries: deque[tuple[int, JournalEntry | Exchange]] = deque(maxlen=max_entries)
        self._lock = threading.Lock()
        self._next_id = 1

    def record(self, entry: JournalEntry) -> JournalEntry:
        """Append ``entry`` with the next id (ids keep counting as old entries fall off)."""
        with self._lock:
            entry = replace(entry, id=self._next_id)
            self._next_id += 1
            if self.max_entries:
                self._entries.append((entry.id, entry))
            return entry

    def capture(self, exchange: Exchange) -> None:
        """Append a raw exchange (the server's hot path: no parsing or redaction until read)."""
        with self._lock:
            if self.max_entries:
                self._entries.append((self._next_id, exchange))
            self._next_id += 1

    def _materialized(self) -> list[JournalEntry]:
        """Every kept entry as a :class:`JournalEntry`, converting exchanges once."""
        out = []
        for index, (entry_id, item) in enumerate(self._entries):
            if isinstance(item, Exchange):
                item = item.entry(entry_id)
                self._entries[index] = (entry_id, item)
            out.append(item)
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
        if wanted is not None and self._operations is not None and wanted not in self._operations:
            raise ValueError(f"{operation!r} is not an operation of the fake")
        with self._lock:
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

    def count(self) -> int:
        return len(self._entries)

    @property
    def last_id(self) -> int:
        """Id of the newest entry ever recorded (0 if none): pass it as ``since`` later."""
        return self._next_id - 1

    def clear(self) -> None:
        """Drop every entry (ids keep counting, so ``since`` stays meaningful)."""
        with self._lock:
            self._entries.clear()

    def reset(self) -> None:
        """Drop every entry and restart ids at 1 (``store.reset()``)."""
        with self._lock:
            self._entries.clear()
            self._next_id = 1

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())
