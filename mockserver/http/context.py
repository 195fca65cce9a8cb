"""What a handler gets (:class:`Context`) and gives back (:class:`Reply`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockserver.domain.models import ApiKey, Organization, Team
from mockserver.domain.store import Store
from mockserver.errors import APIError
from mockserver.http.spec import Operation
from mockserver.http.validation import ParsedRequest

if TYPE_CHECKING:
    from mockserver.http.app import MockServer

__all__ = ["Context", "Reply"]


@dataclass
class Reply:
    """A handler's answer: status, JSON-able body (``None`` = empty) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    """One authenticated, routed, validated request."""

    server: MockServer
    op: Operation
    parsed: ParsedRequest
    #: Raw path values from the URL (strings).
    path_params: dict[str, str]
    #: Absolute URL of the request without its query string, and the query string:
    #: pagination links are built from them.
    base_url: str
    query_string: str
    raw_query: dict[str, list[str]]
    key: ApiKey | None = None
    team: Team | None = None
    organization: Organization | None = None

    @property
    def store(self) -> Store:
        return self.server.store

    @property
    def team_ids(self) -> list[int]:
        """The teams this URL covers: one at team level, every team of the org at org level."""
        if self.team is not None:
            return [self.team.id]
        if self.organization is not None:
            return list(self.organization.team_ids)
        return []

    @property
    def body(self) -> Any:
        """The JSON body; raises the parse/media-type error if it did not decode."""
        if self.parsed.body_error is not None:
            raise self.parsed.body_error
        return self.parsed.body if self.parsed.body is not None else {}

    @property
    def query(self) -> dict[str, Any]:
        """Query values cast by the spec; raises the first invalid parameter's error."""
        if self.parsed.query_error is not None:
            raise self.parsed.query_error
        return self.parsed.query

    def arg(self, name: str) -> str | None:
        """A raw query value (first occurrence), for lenient parameters."""
        values = self.raw_query.get(name)
        return values[0] if values else None

    def check_field_errors(self) -> None:
        """Raise the first structural body error (for bodies no domain serializer orders)."""
        body = self.body
        if self.parsed.field_errors:
            raise next(iter(self.parsed.field_errors.values()))
        if not isinstance(body, dict):
            raise APIError()
