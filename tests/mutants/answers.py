"""Mutants that keep the fake's state right but change what a client is told.

Each is a :class:`~mutants.rewrite.Rewrite` in front of an unbroken fake, altering one
kind of answer. The docstring says what breaks and which property of the contract suite
must notice.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request

from mockserver import MockServer
from mutants.rewrite import Answer, Rewrite, is_export_list, is_export_path

__all__ = [
    "AnonymousActsAsLastCaller",
    "CreateAnswers200",
    "CursorRepeatsAnItem",
    "DeletedExportIs400",
    "EveryFortieth500",
    "ExportWithoutLatestRuns",
    "ListOmitsPaused",
    "NotFoundWithoutAttr",
    "UnauthenticatedSaysPermissionDenied",
]


class CreateAnswers200(Rewrite):
    """Status codes: creating an export answers 200 instead of PostHog's 201.

    The export is created all the same. Caught by ``create`` (every phase creates with
    ``expect(..., 201)``).
    """

    def answer(self, request: Request, response: Answer) -> None:
        if request.method == "POST" and request.path.endswith("/batch_exports/") and response.status == 201:
            response.status = 200


class DeletedExportIs400(Rewrite):
    """Status codes: an export that does not exist (deleted, or never was) is 400, not 404.

    The body is a well-formed validation error, so only the status is wrong. Caught by
    ``delete.gone`` (every request about a deleted export must be 404).
    """

    def answer(self, request: Request, response: Answer) -> None:
        if response.status == 404 and is_export_path(request):
            response.status = 400
            response.json = {"type": "validation_error", "code": "invalid", "detail": "Not found.", "attr": "id"}


class NotFoundWithoutAttr(Rewrite):
    """Error shape: a 404 body lacks ``attr`` (``{type, code, detail}`` only).

    Caught by ``error-body-shape``: every 4xx the suite sees must be PostHog's
    ``{type, code, detail, attr}``.
    """

    def answer(self, request: Request, response: Answer) -> None:
        if response.status == 404 and isinstance(response.json, dict):
            response.json.pop("attr", None)


class UnauthenticatedSaysPermissionDenied(Rewrite):
    """Error shape: a 401 says ``permission_denied`` (the 403 code) instead of why the caller is not authenticated.

    Status, keys and ``type`` are all right; only the ``code`` a client branches on is
    wrong. Should be caught by ``auth.no-credentials`` / ``auth.malformed-key``, which get
    a 401 from every operation (PostHog: ``not_authenticated`` without a key,
    ``authentication_failed`` with a bad one).
    """

    def answer(self, request: Request, response: Answer) -> None:
        if response.status == 401 and isinstance(response.json, dict):
            response.json.update(code="permission_denied", detail="You do not have permission to perform this action.")


class AnonymousActsAsLastCaller(Rewrite):
    """Auth: a request without credentials is served as the last caller who sent a key.

    The kind of bug a session or connection cache makes. Caught by
    ``auth.no-credentials`` (every operation without a key must be 401).
    """

    def __init__(self, server: MockServer | None = None) -> None:
        super().__init__(server)
        self.last: str | None = None

    def before(self, request: Request) -> None:
        environ = request.environ
        if "HTTP_AUTHORIZATION" in environ:
            self.last = environ["HTTP_AUTHORIZATION"]
        elif self.last is not None:
            environ["HTTP_AUTHORIZATION"] = self.last


class CursorRepeatsAnItem(Rewrite):
    """Cursors: each ``next`` cursor of runs and backfills points one item back.

    The last item of a page is the first of the next one. Caught by ``cursor.pages`` (no
    item on two pages), once an export has more runs than one page holds (100).
    """

    def answer(self, request: Request, response: Answer) -> None:
        body = response.json
        if request.method != "GET" or not isinstance(body, dict) or not body.get("next"):
            return
        if request.path.endswith(("/runs/", "/backfills/")):
            body["next"] = _shift_cursor(body["next"], -1)


def _shift_cursor(url: str, by: int) -> str:
    """The same link with its cursor position (the fake's ``base64("o=<n>")``) moved by ``by``."""
    parts = urlsplit(url)
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "cursor":
            position = int(base64.b64decode(value).decode().partition("=")[2]) + by
            value = base64.b64encode(f"o={position}".encode()).decode()
        query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


class ListOmitsPaused(Rewrite):
    """Missing fields: the items of an export list have no ``paused`` (retrieve still has it).

    A list serializer that drifted from the detail one. Caught by ``response-shape``: the
    ``exports`` phase reads every listed export's ``paused`` after each step.
    """

    def answer(self, request: Request, response: Answer) -> None:
        if is_export_list(request) and response.status == 200:
            for item in response.json["results"]:
                item.pop("paused", None)


class ExportWithoutLatestRuns(Rewrite):
    """Missing fields: exports come without ``latest_runs`` (retrieve, list, create and patch alike).

    The spec requires the field. Caught by ``response-shape``: the ``runs`` phase reads an
    export's ``latest_runs`` after each step to check they are some of its runs.
    """

    def answer(self, request: Request, response: Answer) -> None:
        body = response.json
        if not isinstance(body, dict) or not (is_export_path(request) or is_export_list(request)):
            return
        for export in body.get("results", [body]):
            if isinstance(export, dict):
                export.pop("latest_runs", None)


class EveryFortieth500(Rewrite):
    """A sporadic 500: every 40th API request answers 500 (PostHog's ``server_error`` body).

    The request itself is carried out, as when a server fails after committing. Caught
    by ``no-server-error`` in the state machines, or by whichever sweep of the ``auth``
    phase the 500 lands in.
    """

    EVERY = 40

    def __init__(self, server: MockServer | None = None) -> None:
        super().__init__(server)
        self.requests = 0

    def answer(self, request: Request, response: Answer) -> None:
        self.requests += 1
        if self.requests % self.EVERY == 0:
            response.status = 500
            response.json = _server_error()


def _server_error() -> dict[str, Any]:
    return {"type": "server_error", "code": "error", "detail": "A server error occurred.", "attr": None}
