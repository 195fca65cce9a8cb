"""Mutants that keep the fake's state right but change what a client is told.

Each is a :class:`~mutants.rewrite.Rewrite` in front of an unbroken fake, altering one
kind of answer. The docstring says what breaks and which property of the contract suite
must notice.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request

from mockserver import MockServer
from mockserver.http.pagination import limit_offset, page_links
from mockserver.http.serialize import batch_export_json
from mutants.rewrite import Answer, Rewrite, is_export_list, is_export_path

__all__ = [
    "AnonymousActsAsLastCaller",
    "BackfillProgressInPercent",
    "MethodNotAllowedWithoutAllow",
    "NextLinkWithoutOffset",
    "OrgListLeaksOtherOrgs",
    "PreviousLinkWrongHost",
    "RestrictedKeyIgnoresScopedTeams",
    "SecretsEchoedOnCreate",
    "ValidationErrorAttrNull",
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


# -- further mutants: links, error details, headers, derived fields, isolation, secrets ---


class NextLinkWithoutOffset(Rewrite):
    """Links: a list's ``next`` link keeps ``limit`` but drops ``offset``, so it leads back to the first page.

    ``count``, the page itself and ``previous`` are right; a client that follows ``next``
    sees the first page again and again. Caught by ``pagination.walk``.
    """

    def answer(self, request: Request, response: Answer) -> None:
        body = response.json
        if is_export_list(request) and response.status == 200 and body.get("next"):
            parts = urlsplit(body["next"])
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "offset"]
            body["next"] = urlunsplit(parts._replace(query=urlencode(query)))


class PreviousLinkWrongHost(Rewrite):
    """Links: ``next``/``previous`` name the server's internal host (``http://internal-api:8000``), not the one asked.

    What a fake behind a proxy that ignores ``X-Forwarded-Host``/``Host`` answers: the
    path and query are right, the host is unreachable for a client. Caught by
    ``pagination.links``: a link names the host that was asked.
    """

    def answer(self, request: Request, response: Answer) -> None:
        body = response.json
        if request.method != "GET" or response.status != 200 or not isinstance(body, dict):
            return
        for key in ("next", "previous"):
            if body.get(key):
                body[key] = urlunsplit(urlsplit(body[key])._replace(scheme="http", netloc="internal-api:8000"))


class ValidationErrorAttrNull(Rewrite):
    """Error shape: a 400 validation error names no field (``attr`` is ``null`` where PostHog names one).

    Keys, ``type``, ``code`` and ``detail`` are right; a client cannot tell which field
    was wrong. Caught by ``invalid-input``: a write with one bad value is 400
    naming that field.
    """

    def answer(self, request: Request, response: Answer) -> None:
        body = response.json
        if response.status == 400 and isinstance(body, dict) and body.get("attr") is not None:
            body["attr"] = None


class MethodNotAllowedWithoutAllow(Rewrite):
    """Status codes: a 405 comes without its ``Allow`` header (RFC 9110 requires it; DRF always sends it).

    Status and body are right. Caught by ``method-not-allowed``: a 405 names what the route
    allows.
    """

    def answer(self, request: Request, response: Answer) -> None:
        if response.status == 405:
            response.headers = [(k, v) for k, v in response.headers if k.lower() != "allow"]


class BackfillProgressInPercent(Rewrite):
    """Derived fields: a backfill's ``progress.progress`` is a percentage (0–100), not PostHog's fraction (0–1).

    A unit slip in a serializer; ``total_runs``/``finished_runs`` stay right. Caught by
    ``backfill.progress``: ``progress`` is ``finished_runs / total_runs``.
    """

    def answer(self, request: Request, response: Answer) -> None:
        body = response.json
        if request.method != "GET" or response.status != 200 or "/backfills/" not in request.path:
            return
        if not isinstance(body, dict):
            return
        for backfill in body.get("results", [body]):
            progress = backfill.get("progress") if isinstance(backfill, dict) else None
            if isinstance(progress, dict) and isinstance(progress.get("progress"), (int, float)):
                progress["progress"] = round(progress["progress"] * 100, 1)


class OrgListLeaksOtherOrgs(Rewrite):
    """Isolation: the organization-level list shows the exports of every organization on the server.

    A queryset filtered on nothing but ``deleted=False``; project-level lists, retrieve and
    writes stay right. Caught by ``auth.isolation`` (another organization never
    sees these exports, through any list).
    """

    def answer(self, request: Request, response: Answer) -> None:
        if not (is_export_list(request) and request.path.startswith("/api/organizations/") and response.status == 200):
            return
        exports = self.server.batch_exports
        limit, offset = limit_offset(request.args.get("limit"), request.args.get("offset"))
        count, items = exports.page_for_teams(sorted(self.server.store.teams), offset=offset, limit=limit)
        links = page_links(
            count, limit=limit, offset=offset, base_url=request.base_url,
            query_string=request.query_string.decode(),
        )  # fmt: skip
        results = [batch_export_json(e, exports.latest_runs(e), profile=exports.profile_of(e)) for e in items]
        response.json = {**links, "results": results}


class RestrictedKeyIgnoresScopedTeams(Rewrite):
    """Scopes: a key restricted to some projects (``scoped_teams``) works on every project of its organization.

    Scopes (read/write) are still enforced; only the project restriction is forgotten.
    Caught by ``auth.scoped-projects``: the key minted for the suite's project is refused
    another project of its organization, which the control plane makes.
    """

    def __init__(self, server: MockServer | None = None) -> None:
        super().__init__(server)
        self.lifted: list[tuple[Any, Any]] = []

    def before(self, request: Request) -> None:
        header = request.environ.get("HTTP_AUTHORIZATION", "")
        key = self.server.store.api_keys.get(header.removeprefix("Bearer ").strip())
        if key is not None and key.scoped_teams:
            self.lifted.append((key, key.scoped_teams))
            key.scoped_teams = None  # for this request only: restored in answer()

    def answer(self, request: Request, response: Answer) -> None:
        while self.lifted:
            key, teams = self.lifted.pop()
            key.scoped_teams = teams


class SecretsEchoedOnCreate(Rewrite):
    """Secrets: create and update echo the destination ``config`` as sent, secrets (``password``, keys) included.

    Retrieve and list still hide them. The bug of a view that answers with its input
    instead of the serializer's output. Caught by ``secrets.hidden``: an export made with
    a destination token, whose answers never contain it.
    """

    def before(self, request: Request) -> None:
        data = request.get_data(cache=True)
        request.environ["wsgi.input"] = io.BytesIO(data)  # the fake reads the body again
        request.environ["mutant.sent"] = data

    def answer(self, request: Request, response: Answer) -> None:
        if request.method not in ("POST", "PATCH", "PUT") or response.status not in (200, 201):
            return
        if not (request.path.endswith("/batch_exports/") or (is_export_path(request) and request.method != "POST")):
            return
        try:
            sent = json.loads(request.environ.get("mutant.sent") or b"null")
        except ValueError:
            return
        config = (sent.get("destination") or {}).get("config") if isinstance(sent, dict) else None
        if isinstance(config, dict) and isinstance(response.json, dict) and "destination" in response.json:
            response.json["destination"]["config"] = {**response.json["destination"]["config"], **config}
