"""Errors the fake raises, each carrying PostHog's status, ``type`` and ``code``.

Domain code raises these; :mod:`mockserver.http.app` is the only place that turns one
into an HTTP response. The body is always PostHog's four-key shape, produced by
``drf-exceptions-hog``::

    {"type": "validation_error", "code": "required", "detail": "This field is required.", "attr": "name"}

Hierarchy::

    APIError
     ├── ValidationError        400 validation_error  (code: required, null, blank, invalid_input, …)
     ├── ParseError             400 invalid_request   parse_error
     ├── NotAuthenticated       401 authentication_error not_authenticated
     ├── AuthenticationFailed   401 authentication_error authentication_failed
     ├── PermissionDenied       403 authentication_error permission_denied
     ├── NotFound               404 invalid_request   not_found
     ├── MethodNotAllowed       405 invalid_request   method_not_allowed
     ├── RequestTimeout         408 invalid_request   request_timeout (the body did not arrive in time)
     ├── FileExpired            410 invalid_request   gone    (``/_mock/files/``: the file outlived ``expires_at``)
     ├── PayloadTooLarge        413 invalid_request   payload_too_large (over the fake's body limit)
     ├── UnsupportedMediaType   415 invalid_request   unsupported_media_type
     ├── Throttled              429 throttled_error   throttled
     ├── TooManyConcurrent…     429 server_error      too_many_concurrent_backfills / _file_downloads
     ├── ServerError            500 server_error      error   (planned faults only)
     ├── ServiceUnavailable     503 server_error      service_unavailable (planned fault)
     └── EmptyBodyError         any status, empty body (the ``test`` endpoint's quirk)

The fake answers a 500 in three cases only, and none of them is one of these errors
raised by the domain: a planned fault asked for it; the fake itself failed (the
exception is recorded in ``MockServer.errors`` and the body is PostHog's generic
``server_error``); or, in strict mode, a response broke the spec (code
``contract_violation``).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "APIError",
    "AuthenticationFailed",
    "EmptyBodyError",
    "FileExpired",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotAuthenticated",
    "NotFound",
    "ParseError",
    "PayloadTooLarge",
    "PermissionDenied",
    "RequestTimeout",
    "ServerError",
    "ServiceUnavailable",
    "Throttled",
    "TooManyConcurrentBackfills",
    "TooManyConcurrentFileDownloads",
    "UnsupportedMediaType",
    "ValidationError",
]


class APIError(Exception):
    """Base class: an error with an HTTP status and PostHog's error body."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    default_code: ClassVar[str] = "error"
    default_detail: ClassVar[str] = "A server error occurred."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        attr: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.default_detail
        # drf-exceptions-hog reports DRF's generic code "invalid" as "invalid_input".
        self.code = "invalid_input" if code == "invalid" else (code or self.default_code)
        #: Dotted-with-``__`` path of the offending field, or ``None``.
        self.attr = attr
        #: Extra response headers (``Retry-After`` on a 429, ``Allow`` on a 405).
        self.headers = headers or {}
        #: The response status; an instance may differ from its class's ``status``.
        self.http_status: int = self.status
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        """The JSON body PostHog sends for this error."""
        return {"type": self.type, "code": self.code, "detail": self.detail, "attr": self.attr}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.detail!r}, attr={self.attr!r})"


class ValidationError(APIError):
    """400. A bare message gets code ``invalid_input`` (drf-exceptions-hog renames DRF's ``invalid``)."""

    status = 400
    type = "validation_error"
    default_code = "invalid_input"
    default_detail = "Invalid input."


class ParseError(APIError):
    status = 400
    type = "invalid_request"
    default_code = "parse_error"
    default_detail = "Malformed request."


class NotAuthenticated(APIError):
    status = 401
    type = "authentication_error"
    default_code = "not_authenticated"
    default_detail = "Authentication credentials were not provided."


class AuthenticationFailed(APIError):
    status = 401
    type = "authentication_error"
    default_code = "authentication_failed"
    default_detail = "Incorrect authentication credentials."


class PermissionDenied(APIError):
    status = 403
    type = "authentication_error"
    default_code = "permission_denied"
    default_detail = "You do not have permission to perform this action."


class NotFound(APIError):
    status = 404
    type = "invalid_request"
    default_code = "not_found"
    default_detail = "Not found."


class MethodNotAllowed(APIError):
    status = 405
    type = "invalid_request"
    default_code = "method_not_allowed"

    def __init__(self, method: str, allowed: list[str] | None = None) -> None:
        headers = {"Allow": ", ".join(allowed)} if allowed else None
        super().__init__(f'Method "{method}" not allowed.', headers=headers)


class NotAcceptable(APIError):
    """DRF's content negotiation found no renderer for the ``Accept`` header (PostHog renders JSON only)."""

    status = 406
    type = "invalid_request"
    default_code = "not_acceptable"

    def __init__(self) -> None:
        super().__init__("Could not satisfy the request Accept header.")


class RequestTimeout(APIError):
    """408: the client did not send the body it announced in time."""

    status = 408
    type = "invalid_request"
    default_code = "request_timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"The request body did not arrive within {seconds:g} seconds.")


class FileExpired(APIError):
    """410 from ``/_mock/files/{file_id}/``: the file outlived ``expires_at``.

    PostHog's bucket would delete the object (S3 answers 404 ``NoSuchKey``) or the
    pre-signed URL would have expired (403); the fake says plainly what happened.
    """

    status = 410
    type = "invalid_request"
    default_code = "gone"
    default_detail = "This file download has expired"


class PayloadTooLarge(APIError):
    """413: a body over the fake's size limit (it is not read, so nothing is stored)."""

    status = 413
    type = "invalid_request"
    default_code = "payload_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"Request body exceeds the limit of {max_bytes} bytes.")


class UnsupportedMediaType(APIError):
    status = 415
    type = "invalid_request"
    default_code = "unsupported_media_type"


class Throttled(APIError):
    status = 429
    type = "throttled_error"
    default_code = "throttled"
    default_detail = "Request was throttled."


class TooManyConcurrentBackfills(APIError):
    """429 with ``type: server_error``: drf-exceptions-hog types every custom APIException so."""

    status = 429
    type = "server_error"
    default_code = "too_many_concurrent_backfills"


class TooManyConcurrentFileDownloads(APIError):
    status = 429
    type = "server_error"
    default_code = "too_many_concurrent_file_downloads"
    default_detail = "Too many concurrent file download batch exports for this team."


class ServerError(APIError):
    """500 from a planned fault. The domain never raises it (see the module's docstring
    for the other two ways the fake answers a 500)."""


class ServiceUnavailable(APIError):
    status = 503
    type = "server_error"
    default_code = "service_unavailable"
    default_detail = "Service temporarily unavailable, try again later."


class EmptyBodyError(APIError):
    """An error PostHog answers with an empty body (``GET …/batch_exports/test/``)."""

    def __init__(self, status: int) -> None:
        super().__init__("")
        self.http_status = status
