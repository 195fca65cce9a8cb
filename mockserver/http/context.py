"""What a handler gets (:class:`Context`, beside its services) and gives back (:class:`Reply`).

A handler is a function ``(services, ctx) -> Reply``: the PostHog API's handlers get the
domain services (:class:`~mockserver.domain.backend.Backend`), the control plane's get
:class:`~mockserver.http.handlers.control.ControlPlane`. ``ctx`` is this one request,
authenticated, routed and parsed; it holds no state of the fake.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request

from mockserver.domain.backend import Backend
from mockserver.domain.models import ApiKey, Organization, Team
from mockserver.errors import ValidationError
from mockserver.http.memo import memoize_short
from mockserver.http.parsed import ParsedRequest
from mockserver.http.spec import Operation

__all__ = ["ApiHandler", "Context", "Reply"]


@memoize_short(maxsize=4096)
def _base_url(scheme: str, host: str, root_path: str, path: str) -> str:
    return get_current_url(scheme, host, root_path, path)


@dataclass
class Reply:
    """A handler's answer: status, JSON-able body (``None`` = empty) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Long work that must not hold the store's lock (a clock jump, a big dump): the
    #: pipeline calls it once the lock is released, and answers with the reply it returns.
    later: Callable[[], Reply] | None = None

    @classmethod
    def deferred(cls, work: Callable[[], Reply]) -> Reply:
        """A reply computed by ``work`` outside the store's lock (``work`` takes it as needed)."""
        return cls(0, later=work)


@dataclass
class Context:
    """One authenticated, routed, validated request."""

    op: Operation
    parsed: ParsedRequest
    #: Raw path values from the URL (strings).
    path_params: dict[str, str]
    #: The werkzeug request, for the few handlers that need more than the above.
    request: Request
    key: ApiKey | None = None
    team: Team | None = None
    organization: Organization | None = None

    @property
    def base_url(self) -> str:
        """Absolute URL of the request without its query string (pagination links start here).

        Computed on demand and cached per path: werkzeug's IRI handling costs more than
        most handlers do.
        """
        request = self.request
        return _base_url(request.scheme, request.host, request.root_path, request.path)

    @property
    def query_string(self) -> str:
        return self.request.query_string.decode("latin-1")

    @property
    def team_id(self) -> int:
        """The project of a project-level URL (runs, backfills and file downloads exist only there)."""
        assert self.team is not None, f"{self.op.operation_id} is not a project-level operation"
        return self.team.id

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

    def refuse_unknown_query(self) -> None:
        """400 for a query parameter the operation does not declare.

        For the control plane's filters, where a misspelt one (``?operation=`` for
        ``?operation_id=``) would be ignored and the answer would show everything.
        PostHog's own routes ignore unknown parameters, as DRF does.
        """
        for name in self.request.args:
            if name not in self.op.query_params:
                known = ", ".join(sorted(self.op.query_params))
                raise ValidationError(
                    f'Unknown query parameter "{name}" (known: {known}).', code="unknown_field", attr=name
                )

    def arg(self, name: str) -> str | None:
        """A raw query value, for lenient parameters: the last one when it is repeated, as
        Django's ``QueryDict`` reads ``?limit=2&limit=3`` (3)."""
        # Not ``args.get(name)``: werkzeug's MultiDict answers a missing key by raising
        # and catching an HTTP exception, a few microseconds per absent parameter.
        values = self.request.args.getlist(name)
        return values[-1] if values else None

    @property
    def body_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object (DRF: "Invalid data. Expected a dictionary…")."""
        body = self.body
        if not isinstance(body, dict):
            raise ValidationError(
                f"Invalid data. Expected a dictionary, but got {type(body).__name__}.", code="invalid"
            )
        return body

    def check_field_errors(self, *, ignoring: Collection[str] = ()) -> None:
        """Raise the first structural body error (for bodies no domain serializer orders).

        ``ignoring``: fields the handler reads raw and judges itself, as PostHog's view does.
        """
        _ = self.body_object  # a malformed body or a non-object one is reported first
        for attr, error in self.parsed.field_errors.items():
            if attr not in ignoring:
                raise error


#: A handler of the PostHog API: the domain services and the request in, the answer out.
ApiHandler = Callable[[Backend, Context], Reply]
