"""What request validation hands to a handler, whichever validator produced it.

Kept apart from :mod:`mockserver.http.validation` so that the fast path does not import
openapi-core (a quarter of a second) until a request actually needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import APIError

__all__ = ["ParsedRequest", "ResponseContractError"]


class ResponseContractError(AssertionError):
    """The fake produced a response its own spec does not allow (strict mode)."""


@dataclass
class ParsedRequest:
    """What validation learned about one request."""

    path_params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    #: The decoded JSON body (``{}`` for an empty body); ``None`` when it did not parse.
    body: Any = None
    #: Error to raise when the handler reads the body (malformed JSON, wrong media type,
    #: a body that is not an object).
    body_error: APIError | None = None
    #: First structural error of each top-level body field.
    field_errors: dict[str, APIError] = field(default_factory=dict)
    #: Error to raise when the handler reads the query (invalid, non-lenient parameter).
    query_error: APIError | None = None
