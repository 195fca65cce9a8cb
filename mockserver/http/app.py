"""The WSGI application: request in, PostHog-shaped response out.

One request flows through :meth:`MockServer.__call__`:

1. route by the spec's paths (:mod:`mockserver.http.routing`, recent matches cached; unknown path → 404
   ``Endpoint not found.``);
2. read the whole body from the client (:mod:`mockserver.http.body`): over the size limit
   → 413, not arrived in time → 408;
3. validate against the spec: validators compiled from it settle every valid request, and
   openapi-core, the authority, judges and explains the rest (errors are kept, and raised
   where PostHog would raise them); JSON nested past :data:`~mockserver.http.body.MAX_JSON_DEPTH`
   is refused (400) without being parsed;
4. negotiate the answer's type as DRF does (:mod:`mockserver.http.negotiation`: JSON only,
   406 for an ``Accept`` header JSON cannot satisfy, 404 for another ``?format=``);
5. authenticate the personal API key (401); find the project or organization the URL
   names (404) within the key's own restrictions (403); check its scope (403), then its
   owner's membership (403), in PostHog's order; a method the path does not have answers
   405 only now, as DRF does after its permission checks;
6. a planned fault (:mod:`mockserver.http.faults`) for this operation and tenant answers
   now, instead of the handler: state is untouched, as when DRF throttles a request
   (a delay-only fault lets the handler run and only holds the answer back);
7. call the handler named by the operation; it returns a :class:`Reply` or raises an
   :class:`~mockserver.errors.APIError`;
8. turn errors into PostHog's body (the only place that does), encode JSON, and in strict
   mode check the response against the spec (planned faults are exempt: they are
   deliberately outside the contract; a mismatch is recorded in ``errors`` and answered
   as a 500 ``contract_violation``);
9. record the exchange in the :mod:`journal <mockserver.http.journal>`, then wait out the
   planned latency, if any, and drop the connection if a fault says so.

Locking
-------
One lock, :attr:`Store.lock <mockserver.domain.store.Store.lock>` (re-entrant), guards all
state: every table of the store, the scheduler's catch-up with a moving clock, and the
handlers that read or write them. A request holds it for steps 3–7 only, so concurrent
clients see one request at a time and the state is never half-written.

Nothing that waits on anyone else runs under it:

* **the client**: routing and reading the body (steps 1–2) come first, and so does the scan
  of a JSON body's nesting (linear, but long for a body of megabytes). A client that
  announces ten bytes and sends one stalls only its own request, until its read timeout
  (408); sending the response is the server's business, after :meth:`MockServer.__call__`
  has returned;
* **planned latency**: slept after step 9, outside the lock, so a slow answer for one
  client holds up nobody else;
* **long work**: a handler whose work is long (a clock jump of years) answers with
  :meth:`Reply.deferred <mockserver.http.context.Reply.deferred>`; its work runs once the
  lock is released and takes the lock in short holds, letting other requests in between;
* **encoding, contract checks and the journal** (steps 8–9) read only the finished
  response. The journal, the planned faults and latency rules have small locks of their
  own, never held while waiting and never held while taking the store's lock, so no two
  locks are ever waited on in opposite orders.

Errors: an :class:`~mockserver.errors.APIError` becomes PostHog's error body; a
``RecursionError`` (input nested beyond what a recursive step handles) a 400; anything
else is a bug of the fake, kept in :attr:`MockServer.errors` (the latest
:data:`MAX_KEPT_ERRORS`) and answered as PostHog's bare 500.

>>> from werkzeug.test import Client
>>> server = MockServer(strict=True)
>>> tenant = server.store.create_tenant()
>>> client = Client(server)
>>> r = client.get(f"/api/projects/{tenant.project_id}/batch_exports/",
...                headers={"Authorization": f"Bearer {tenant.api_key}"})
>>> r.status_code, r.json["count"]
(200, 0)
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import re
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from mockserver.clock import Clock
from mockserver.domain import outcomes
from mockserver.domain.backend import Backend
from mockserver.domain.lifecycle import Outcome
from mockserver.domain.models import check_profile
from mockserver.domain.store import Store
from mockserver.errors import (
    APIError,
    EmptyBodyError,
    MethodNotAllowed,
    NotFound,
    ParseError,
    UnsupportedMediaType,
)
from mockserver.http import auth, metadata
from mockserver.http.body import MAX_JSON_DEPTH, BodyLimits, BodyReaders, as_utf8_json, json_too_deep, read_body
from mockserver.http.context import Context, Reply
from mockserver.http.fastpath import FastValidator
from mockserver.http.faults import (
    CLIENT_TIMEOUT_KEY,
    ConnectionDropped,
    Fault,
    Faults,
    Latency,
    ResponseTimedOut,
)
from mockserver.http.forms import FORM_MEDIA_TYPES, form_to_data
from mockserver.http.guard import ControlPlaneGuard
from mockserver.http.handlers import API_HANDLERS, CONTROL_HANDLERS
from mockserver.http.handlers.control import ControlPlane
from mockserver.http.journal import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ENTRIES,
    Exchange,
    HeaderPicker,
    Journal,
)
from mockserver.http.negotiation import check_acceptable
from mockserver.http.parsed import ResponseContractError
from mockserver.http.routing import Router
from mockserver.http.spec import PROFILES, Operation, Spec, canonical_name, load_spec

if TYPE_CHECKING:
    from mockserver.http.validation import SpecValidator

__all__ = ["MockServer"]

log = logging.getLogger("mockserver")

Handler = Callable[[Context], Reply]

_ROUTE_CACHE_SIZE = 4096
#: Unexpected exceptions kept in :attr:`MockServer.errors`.
MAX_KEPT_ERRORS = 100

#: Answers given before the request reaches the API (body too slow or too large): the
#: spec documents PostHog's answers, not a proxy's, so strict mode does not check these.
_OUTSIDE_CONTRACT = frozenset({408, 413})
#: Frames of a traceback written to the log for a bug of the fake.
_TRACEBACK_LIMIT = 30

#: Operations whose requests the journal does not record (reading it must not change it).
_UNJOURNALED = frozenset({"mock_journal_list", "mock_journal_destroy"})


class _Routed(NamedTuple):
    """Where routing sent a request."""

    #: The spec path (``…/batch_exports/{id}/``).
    template: str
    path_params: Mapping[str, Any]
    #: The operation for this method, or (``not_allowed``) some operation at the path.
    operation_id: str
    not_allowed: bool


@dataclass
class _Trace:
    """What the pipeline learned about one request, for the steps after the handler."""

    #: When the request arrived, on the virtual clock.
    at: datetime | None = None
    #: The operation routing found (``None``: unknown path, or a method the path lacks).
    op: Operation | None = None
    #: The request's context, once built (it carries the key and tenant, when resolved).
    ctx: Context | None = None
    #: The planned fault that answered instead of the handler.
    fault: Fault | None = None
    #: The ``Allow`` header of the route (DRF sends it with every response of a view).
    allow: list[str] | None = None
    #: The profile of PostHog's API the request was answered by.
    profile: str = "docs"
    #: The request body as read (empty when it was not: unknown path, refused, too slow).
    body: bytes = b""
    #: Whether that body nests deeper than :data:`~mockserver.http.body.MAX_JSON_DEPTH`.
    too_deep: bool = False
    #: A JSON body its charset could not decode (reported where the handler reads the body).
    charset_error: ParseError | None = None


class MockServer:
    """The fake PostHog batch-exports API as a WSGI app.

    Args:
        store: the state to serve; a new one (seeded with ``seed``) by default.
        seed: seed for a new store's ids and generated values.
        clock: clock for a new store; frozen at a fixed instant by default.
        strict: validate every response against the spec and raise on a mismatch.
        spec: the parsed OpenAPI document (the packaged one by default).
        journal_size: how many requests :attr:`journal` keeps (``0``: none).
        journal_bytes: how many bytes of bodies the journal keeps in all.
        journal_body_bytes: how many bytes of one body the journal keeps.
        sleep: how planned latency waits (``time.sleep``); tests inject a recorder.
        body_limits: the largest request body accepted (413 beyond) and how long it may
            take to arrive (408 beyond).
        control_plane_token: lets clients off this machine use ``/_mock/`` when they send
            it in ``X-Mock-Control-Token`` (:mod:`mockserver.http.guard`).
        open_control_plane: lets every client use ``/_mock/`` (unsafe beyond a trusted network).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        strict: bool = False,
        spec: Spec | None = None,
        journal_size: int = DEFAULT_MAX_ENTRIES,
        journal_bytes: int = DEFAULT_MAX_BYTES,
        journal_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        body_limits: BodyLimits | None = None,
        control_plane_token: str | None = None,
        open_control_plane: bool = False,
        profile: str | None = None,
    ) -> None:
        self.store = store or Store(seed=seed, clock=clock)
        if profile is not None:
            check_profile(profile)
            self.store.default_profile = profile
        self.spec = spec or load_spec()
        #: The document each profile of PostHog's API is checked against (``docs`` is :attr:`spec`).
        self.specs: dict[str, Spec] = {self.spec.profile: self.spec}
        for other in PROFILES:
            if other not in self.specs:
                self.specs[other] = load_spec(profile=other)
        self._fast = {name: _compile(document).fast for name, document in self.specs.items()}
        if spec is not None:
            # A document of the caller's own: a schema jsonschema_rs cannot compile is
            # reported now, not as a 500 on the first request of its operation.
            self._fast[spec.profile].compile_all()
        self._validators: dict[str, SpecValidator] = {}
        self._validator_lock = threading.Lock()
        self.strict = strict
        self.body_limits = body_limits or BodyLimits()
        self.body_readers = BodyReaders()
        #: Who may use ``/_mock/`` (:mod:`mockserver.http.guard`).
        self.control_access = ControlPlaneGuard(control_plane_token, open=open_control_plane)
        #: The domain services (batch exports, scheduler, runs, backfills) over the store.
        self.backend = Backend(self.store)
        self.batch_exports = self.backend.batch_exports
        compiled = _compile(self.spec)
        self._router = compiled.router
        #: Recent successful matches, ``path → (spec path, path values)``: clients poll the
        #: same URLs over and over, and matching costs more than the lookup.
        self._route_cache: dict[str, tuple[str, Mapping[str, Any]]] = {}
        self._operations_at = compiled.operations_at
        self._fallback_operation = compiled.fallback_operation
        self._allow = compiled.allow
        self.fast = compiled.fast
        #: Unexpected exceptions raised while handling requests (a bug in the fake);
        #: the pytest plugin re-raises them in the test that caused them. Only the most
        #: recent :data:`MAX_KEPT_ERRORS` are kept: each holds its traceback's frames.
        self.errors: list[BaseException] = []
        #: Canonical names of every operation, and of PostHog's (the control plane's excluded).
        self.operation_names = frozenset(canonical_name(op.operation_id) for op in self.spec.operations.values())
        self.posthog_operations = self.operation_names - {
            op.operation_id for op in self.spec.operations.values() if op.level == "control"
        }
        #: Planned faults (``/_mock/faults/``), latency (``/_mock/latency/``) and the
        #: request journal (``/_mock/journal/``); ``store.reset()`` clears all three.
        self.faults = Faults(self.posthog_operations)
        self.latency = Latency(self.posthog_operations, sleep=sleep)
        self.journal = Journal(
            journal_size, operations=self.operation_names, max_bytes=journal_bytes, max_body_bytes=journal_body_bytes
        )
        self._pick_headers = HeaderPicker()
        self.store.reset_listeners.extend([self.faults.reset, self.latency.reset, self.journal.reset])
        #: What the ``/_mock/`` handlers work on; PostHog's handlers get only :attr:`backend`.
        self.control_plane = ControlPlane(
            store=self.store,
            faults=self.faults,
            latency=self.latency,
            journal=self.journal,
            operation_names=self.operation_names,
            posthog_operations=self.posthog_operations,
            backend=self.backend,
            check_body=self.check_body,
            request_fields=self.request_fields,
        )
        #: operationId → its handler, bound to the services it gets.
        self.handlers: dict[str, Handler] = {
            op.operation_id: self._bind(op.name) for op in self.spec.operations.values()
        }

    def _bind(self, name: str) -> Handler:
        api = API_HANDLERS.get(name)
        if api is not None:
            return functools.partial(api, self.backend)
        return functools.partial(CONTROL_HANDLERS[name], self.control_plane)

    @property
    def validator(self) -> SpecValidator:
        """openapi-core for the default document, built on first need (importing it takes ~0.25 s)."""
        return self.validator_for(self.spec.profile)

    def validator_for(self, profile: str) -> SpecValidator:
        """openapi-core, the authority, for one profile's document."""
        with self._validator_lock:
            validator = self._validators.get(profile)
            if validator is None:
                from mockserver.http.validation import SpecValidator

                validator = self._validators[profile] = SpecValidator(self.specs[profile])
            return validator

    def request_fields(self, operation_id: str, *, profile: str) -> tuple[str, ...]:
        """The top-level fields the request body of ``operation_id`` declares, in the spec's order.

        The API ignores any other key, as DRF does; factories refuse them instead, since a
        key a test passes that the API ignores is almost always a typo.
        """
        schema = self.specs[profile].request_schema(operation_id) or {}
        return tuple(schema.get("properties", {}))

    def check_body(self, operation_id: str, body: Any, *, profile: str) -> dict[str, APIError]:
        """The field errors a request of ``operation_id`` with this JSON ``body`` would get from
        the spec's validation (``{}`` when it is valid), by attr; the handler decides which
        one it reports, as for a request. Factories and scenarios make objects through the
        domain directly: this gives them the HTTP layer's checks first.

        Raises:
            ParseError: ``body`` is not JSON at all, as no request body could be.
        """
        try:
            raw = orjson.dumps(body)
        except TypeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        op = self.specs[profile].operations[operation_id]
        parsed = self._fast[profile].parse_request(operation_id, MultiDict(), raw, "application/json", True)
        if parsed is None:
            # Any concrete path of the operation: only its body is judged here.
            path = re.sub(r"\{project_id\}|\{organization_id\}", "1", op.path)
            path = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
            parsed = self.validator_for(profile).parse_request(
                op, path=path, query=MultiDict(), headers=Headers(), body=raw, content_type="application/json"
            )
        if parsed.body_error is not None:
            raise parsed.body_error
        return dict(parsed.field_errors)

    def warm_up(self) -> None:
        """Build every profile's validators now (compiled ones, then openapi-core), so no request builds them.

        The first request the compiled validators cannot settle (an invalid one, or a body
        with a float) otherwise builds openapi-core while holding the store's lock: about
        0.3 s on a quiet machine, seconds on a busy one, and every other client waits; an
        operation's first request compiles its own validators (0.1-0.5 ms, and about 7 ms
        for the first of a profile, which also builds the schema registry).
        ``serve`` calls this on a background thread as soon as it listens; it takes only
        the validators' own locks.
        """
        for fast in self._fast.values():
            fast.compile_all()
        for profile in self.specs:
            self.validator_for(profile)

    def profile_for(self, path_params: Mapping[str, Any]) -> str:
        """The profile of the tenant a URL names (its project's or organization's), else the default."""
        store = self.store
        if "project_id" in path_params:
            try:
                return store.profile_of_team(auth.parse_project_id(str(path_params["project_id"])))
            except NotFound:  # no project: authentication answers first, whatever the profile
                return store.default_profile
        if "organization_id" in path_params:
            return store.profile_of_organization(str(path_params["organization_id"]))
        return store.default_profile

    # -- planned outcomes (Python API of /_mock/outcomes/) ----------------------------

    def retire_tenant(self, organization_id: str) -> None:
        """The tenant is done with: the clock starts no more runs or backfill steps for it.

        The plugin retires each test's tenant on the session's shared server at teardown,
        so that a later test's clock advance works for live tenants only
        (:meth:`~mockserver.domain.engine.Engine.retire`). Its records stay readable.
        """
        self.backend.engine.retire(organization_id)

    def plan_outcomes(self, export_id: str, planned: Iterable[Outcome]) -> list[Outcome]:
        """Make the export's next runs end as ``planned``, in order; returns the whole queue.

        >>> from mockserver.domain.lifecycle import Outcome
        >>> server = MockServer()
        >>> server.plan_outcomes("not-an-export", [Outcome("Failed", "boom")])
        Traceback (most recent call last):
        ...
        mockserver.errors.ValidationError: Invalid pk "not-an-export" - object does not exist.
        """
        return outcomes.plan_outcomes(self.store, export_id, planned)

    def planned_outcomes(self, export_id: str) -> list[Outcome]:
        """The outcomes still waiting for a run of the export, next first."""
        return outcomes.planned_outcomes(self.store, export_id)

    def plan_file_downloads(self, project_id: int, planned: Iterable[Outcome]) -> list[Outcome]:
        """Make the project's next file downloads (on-demand exports) end as ``planned``, in order;
        returns the whole queue. A ``Completed`` one with ``records_completed`` writes that many rows."""
        return outcomes.plan_file_downloads(self.store, project_id, planned)

    def planned_file_downloads(self, project_id: int) -> list[Outcome]:
        """The outcomes still waiting for the project's next file downloads, next first."""
        return outcomes.planned_file_downloads(self.store, project_id)

    # -- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # Straight to WSGI: a werkzeug Response object would cost a third of a request.
        request = Request(environ)
        try:
            out = self._answer(request)
        except ConnectionDropped:
            # On werkzeug's server, close the socket so the client sees the drop at once
            # (the server would otherwise keep the connection open for the next request).
            # granian cannot drop: serve_granian turns the exception into a failing body.
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            raise
        finally:
            request.close()  # the spooled files of a multipart body
        start_response(f"{out.status} {HTTP_STATUS_CODES.get(out.status, 'UNKNOWN')}", out.headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [out.body]

    def _answer(self, request: Request) -> _Output:
        trace = _Trace(at=self.store.clock.now())
        try:
            routed = self._resolve(request, trace)
            if self.spec.operations[routed.operation_id].level == "control" and routed.operation_id not in _UNGUARDED:
                self.control_access.check(request.environ)  # before the body: nothing of it is read
            # The one step that waits on the client, so it runs before the lock (see "Locking").
            if routed.not_allowed:
                body = trace.body = b""
            else:
                body = trace.body = read_body(request.environ, self.body_limits, self.body_readers)
                if body and request.mimetype == "application/json":
                    # Decoded from its charset here, outside the lock: linear in the body's size
                    # (as_utf8_json takes no codec that is not), and the journal then reads UTF-8.
                    try:
                        body = trace.body = as_utf8_json(body, request.mimetype_params.get("charset"))
                    except ParseError as exc:
                        trace.charset_error = exc
                # Scanned here, outside the lock: linear, but a big body takes a while.
                trace.too_deep = json_too_deep(body)
            engine = self.backend.engine
            if self.store.clock.speed:
                engine.catch_up_in_steps()  # a real or accelerated clock moved on its own
            with self.store.lock:
                engine.catch_up()  # what came due since the steps (little)
                reply = self._dispatch(request, trace, routed, body)
            if reply.later is not None:
                reply = reply.later()  # long work, outside the lock: it takes the lock in short holds
        except APIError as error:
            reply = _error_reply(error)
        except RecursionError:
            # Input nested beyond what a recursive step handles: the client's doing, not a
            # bug of the fake. One log line, no traceback (it would be thousands of lines).
            log.warning("refused a request nested too deeply to process: %s %s", request.method, request.path)
            reply = _error_reply(ParseError(f"JSON parse error - nesting deeper than {MAX_JSON_DEPTH} levels"))
        except Exception as exc:  # noqa: BLE001 - a bug in the fake: report it, answer PostHog-style
            self._note_error(exc)
            log.error("unhandled error in the fake:\n%s", traceback.format_exc(limit=_TRACEBACK_LIMIT))
            reply = Reply(
                500, {"type": "server_error", "code": "error", "detail": "A server error occurred.", "attr": None}
            )
        if trace.allow is not None and "Allow" not in reply.headers:
            reply.headers = {**reply.headers, "Allow": ", ".join(trace.allow)}
        out = _encode(reply)
        checked = trace.fault is None or not trace.fault.replaces_handler
        if self.strict and trace.op is not None and checked and out.status not in _OUTSIDE_CONTRACT:
            try:
                self._check_contract(trace.op, request, out, trace.profile)
            except ResponseContractError as exc:
                # Loud: recorded in self.errors (the plugin and the test fixtures fail the
                # test with it), journaled, and answered as a 500 that says what is wrong.
                self._note_error(exc)
                out = _encode(Reply(500, {"type": "server_error", "code": "contract_violation",
                                          "detail": str(exc), "attr": None}))  # fmt: skip
        delay = self._delay(trace)
        self._record(request, out, trace, delay)
        timeout = request.environ.get(CLIENT_TIMEOUT_KEY)
        if timeout is not None and delay > timeout:
            # In process only: the client would give up first, so say so now instead of sleeping.
            raise ResponseTimedOut(f"the answer was planned {delay:g} s late and the client waits {timeout:g} s")
        self.latency.wait(delay)  # outside the store's lock: other requests proceed
        if trace.fault is not None and trace.fault.drop:
            raise ConnectionDropped(f"planned fault {trace.fault.id} dropped the connection")
        return out

    def _note_error(self, exc: BaseException) -> None:
        self.errors.append(exc)
        if len(self.errors) > MAX_KEPT_ERRORS:
            del self.errors[:-MAX_KEPT_ERRORS]

    # -- pipeline --------------------------------------------------------------------

    def _route(self, request: Request) -> tuple[str, Mapping[str, Any]]:
        """The spec path the URL names (``…/batch_exports/{id}/``) and its path values.

        Like Django's URL resolver, routing looks at the path alone and the method is
        checked afterwards, so ``POST …/batch_exports/test/`` reaches the ``test`` action
        (and its own 405) instead of falling through to ``{id}``: literal segments win over
        path values, as DRF's router lists list-level actions before the detail route.
        The slashless spelling is matched too (PostHog's trailing slash is optional), and a
        path with an empty segment matches nothing (:mod:`mockserver.http.routing`).
        """
        path = request.path
        cached = self._route_cache.get(path)
        if cached is not None:
            return cached
        found = self._router.match(path)
        if found is None:
            raise NotFound("Endpoint not found.")
        if len(self._route_cache) >= _ROUTE_CACHE_SIZE:
            self._route_cache.clear()
        self._route_cache[path] = found
        return found

    def _resolve(self, request: Request, trace: _Trace) -> _Routed:
        """The operation the request names (no state, no I/O: runs before the lock)."""
        template, path_params = self._route(request)
        trace.allow = self._allow[template]
        method = "GET" if request.method == "HEAD" else request.method
        operation_id = self._operations_at.get((template, method))
        not_allowed = operation_id is None
        if operation_id is None:
            # Authenticate and resolve the tenant as for any operation at this path (the
            # first in name order, as before), then answer OPTIONS or 405.
            operation_id = self._fallback_operation[template]
        if not not_allowed:
            trace.op = self.spec.operations[operation_id]
        return _Routed(template, path_params, operation_id, not_allowed)

    def _dispatch(self, request: Request, trace: _Trace, routed: _Routed, body: bytes) -> Reply:
        template, path_params, operation_id, not_allowed = routed
        profile = trace.profile = self.profile_for(path_params)
        spec = self.specs[profile]
        op = spec.operations[operation_id]
        mimetype = request.mimetype
        form = None
        if op.has_body and mimetype in FORM_MEDIA_TYPES and body.strip():
            form = form_to_data(
                request.form, request.files, spec.request_schema(operation_id), spec.resolve,
                partial=request.method == "PATCH",
            )  # fmt: skip
            mimetype = "application/json"
            try:
                body = orjson.dumps(form.data)
                trace.too_deep = json_too_deep(body)  # the form's values as JSON (urlencoded brackets went uncounted)
            except orjson.JSONEncodeError:  # nested past the 255 levels orjson writes: too deep in any case
                body, trace.too_deep = b"[]", True
        # A body refused before parsing (reported when the handler reads it, as DRF does).
        refused: APIError | None = None
        if op.has_body and body and not request.environ.get("CONTENT_TYPE"):
            refused = UnsupportedMediaType('Unsupported media type "" in request.')  # DRF: no parser for ""
        elif op.has_body and body and trace.charset_error is not None:
            refused = trace.charset_error
        if refused is None and op.has_body and trace.too_deep:
            refused = ParseError(f"JSON parse error - nesting deeper than {MAX_JSON_DEPTH} levels")
        if refused is not None:
            body = b""  # never parsed
        query = _without_empty_values(_last_values(request.args, op), op)
        # The compiled validators settle most requests; openapi-core, the authority,
        # decides (and explains) whenever they cannot say "valid".
        parsed = self._fast[profile].parse_request(operation_id, query, body, mimetype, op.has_body)
        if parsed is None:
            parsed = self.validator_for(profile).parse_request(
                op, path=request.path, query=query, headers=request.headers, body=body, content_type=mimetype,
            )  # fmt: skip
        if form is not None:
            parsed.field_errors.update(form.errors)
            if request.mimetype == "multipart/form-data" and "boundary" not in request.mimetype_params:
                parsed.body_error = ParseError("Multipart form parse error - Invalid boundary in multipart: None")
        if refused is not None:
            parsed.body, parsed.field_errors, parsed.body_error = None, {}, refused
        ctx = trace.ctx = Context(
            op=op,
            parsed=parsed,
            path_params={k: _path_value(k, str(v)) for k, v in path_params.items()},
            request=request,
        )
        scope = op.scope
        if not_allowed and request.method == "OPTIONS" and scope is not None:
            scope = scope.split(":", 1)[0] + ":read"  # DRF's OPTIONS is a read (APIScopePermission)
        elif not_allowed and request.method == "PATCH" and "{id}" not in template and scope is not None:
            # APIScopePermission calls a PATCH on a list route the write action "patch"
            # (``_get_action``): a read-only key hears about the scope, not the method.
            scope = scope.split(":", 1)[0] + ":write"
        if op.level != "control":
            # DRF negotiates the renderer before anything else of the view, authentication included.
            check_acceptable(request.environ.get("HTTP_ACCEPT"), ctx.arg("format"))
            json_body = parsed.body if parsed.body_error is None else None
            key = ctx.key = auth.authenticate(self.store, request.headers, request.args, json_body)
            team = organization = None
            if op.level == "team":
                team = auth.resolve_team(self.store, key, ctx.path_params["project_id"])
            else:
                organization = auth.resolve_organization(self.store, key, ctx.path_params["organization_id"])
            auth.check_scope(key, scope)
            auth.check_member(key, team=team, organization=organization)
            # Only now: the journal counts a request as the project's once the key may use it.
            ctx.team, ctx.organization = team, organization
        if not_allowed:
            if request.method == "OPTIONS":
                return self._options(template)
            raise MethodNotAllowed(request.method, trace.allow)
        if op.level != "control":
            # Where DRF checks throttles: after authentication and permissions, before the body.
            trace.fault = self.faults.take(op.name, _key(ctx), ctx.team_ids)
            if trace.fault is not None and trace.fault.replaces_handler:
                return trace.fault.reply(request.method)
        return self.handlers[op.operation_id](ctx)

    def _options(self, template: str) -> Reply:
        """DRF's ``SimpleMetadata`` for the route (:mod:`mockserver.http.metadata`), without ``actions``.

        ``SimpleMetadata`` lists the ``POST``/``PUT`` fields a caller may use by checking
        permissions again as if the request were that method; the view's action is still
        ``metadata`` then, and PostHog's ``APIScopePermission`` finds no scope for it
        (``posthog/permissions.py@001027ced3127c76229e5b8c8802924d0ef94cef``), so a personal
        API key never sees ``actions``.
        """
        return Reply(
            200,
            {
                "name": metadata.view_name(template),
                "description": metadata.view_description(template),
                "renders": metadata.RENDERS,
                "parses": metadata.PARSES,
            },
        )

    # -- responses -------------------------------------------------------------------

    def _delay(self, trace: _Trace) -> float:
        """Planned latency for this request (PostHog operations only, whatever the answer)."""
        if trace.op is None or trace.op.level == "control" or trace.ctx is None:
            return 0.0
        planned = trace.fault.delay if trace.fault is not None else 0.0
        return planned + self.latency.delay_for(trace.op.name, _key(trace.ctx), trace.ctx.team_ids)

    def _record(self, request: Request, out: _Output, trace: _Trace, delay: float) -> None:
        """Append the exchange to the journal (secrets redacted, bodies kept as bytes)."""
        op = trace.op
        if (op is not None and op.operation_id in _UNJOURNALED) or not self.journal.max_entries:
            return
        ctx = trace.ctx
        environ = request.environ
        request_data = trace.body  # never request.get_data(): that would wait on the client
        self.journal.capture(
            Exchange(
                timestamp=trace.at,
                method=request.method,
                path=request.path,
                query_string=request.query_string,
                environ_headers=self._pick_headers(environ),
                request_data=request_data,
                request_size=len(request_data),
                status=out.status,
                response_headers=tuple(out.headers),
                response_content_type=out.mimetype,
                response_data=out.body,
                response_size=len(out.body),
                operation_id=op.operation_id if op is not None else None,
                project_id=ctx.team.id if ctx is not None and ctx.team is not None else None,
                organization_id=ctx.organization.id if ctx is not None and ctx.organization is not None else None,
                fault_id=trace.fault.id if trace.fault is not None else None,
                latency=delay,
                key_organization_id=_key_organization(ctx),
            )
        )

    def _check_contract(self, op: Operation, request: Request, out: _Output, profile: str) -> None:
        """Raise :class:`ResponseContractError` unless ``out`` is what the profile's document allows."""
        if out.status == 500:
            return  # already recorded in self.errors as a bug of the fake
        if self._fast[profile].response_is_valid(op.operation_id, out.status, out.body, out.mimetype):
            return
        self.validator_for(profile).check_response(
            op,
            path=request.path,
            query=request.args,
            headers=request.headers,
            status=out.status,
            body=out.body,
            content_type=out.mimetype,
            response_headers=dict(out.headers),
        )


@dataclass(frozen=True, slots=True)
class _Output:
    """A response as WSGI wants it: status, header list, body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    #: The body's media type without parameters ("" when there is no body type).
    mimetype: str


def _encode(reply: Reply) -> _Output:
    """A handler's :class:`Reply` as bytes and headers."""
    headers: list[tuple[str, str]] = []
    if reply.body is None:
        body, mimetype = b"", ""
    elif isinstance(reply.body, bytes):
        # A file served as it is (``/_mock/files/``); the handler's headers give its type.
        body, mimetype = reply.body, ""
    else:
        body, mimetype = dumps(reply.body), "application/json"
        headers.append(("Content-Type", "application/json"))
    for name, value in reply.headers.items():
        if name.lower() == "content-type":
            mimetype = value.split(";", 1)[0].strip().lower()
        headers.append((name, value))
    if reply.status != 204 and not 100 <= reply.status < 200:
        headers.append(("Content-Length", str(len(body))))
    return _Output(reply.status, headers, body, mimetype)


def dumps(value: Any) -> bytes:
    """JSON as DRF's JSONRenderer writes it (compact, UTF-8), for anything a client stored.

    orjson is several times faster and answers almost always; what it refuses (integers
    beyond 64 bits, lone surrogates in strings, nesting past 255 levels) was still sent
    by a client and stored, so the standard library writes it instead (lone surrogates
    as ``\\u`` escapes).
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class _Compiled:
    """What every server over one spec shares: the routing table and the fast validators."""

    router: Router
    fast: FastValidator
    #: ``(spec path, method) → operationId``.
    operations_at: Mapping[tuple[str, str], str]
    #: The operation that authenticates a method the path lacks (its first by name).
    fallback_operation: Mapping[str, str]
    #: ``spec path → Allow`` list, in DRF's order.
    allow: Mapping[str, list[str]]


@functools.lru_cache(maxsize=4)
def _compile(spec: Spec) -> _Compiled:
    """Built once per parsed spec."""
    operations_at: dict[tuple[str, str], str] = {}
    for op in spec.operations.values():
        operations_at[(op.path, op.method)] = op.operation_id
    methods: dict[str, list[str]] = {}
    for path, method in operations_at:
        methods.setdefault(path, []).append(method)
    fallback = {path: operations_at[(path, sorted(found)[0])] for path, found in methods.items()}
    allow = {path: metadata.allowed_methods(found) for path, found in methods.items()}
    return _Compiled(Router(methods), FastValidator(spec), operations_at, fallback, allow)


def _last_values(args: MultiDict[str, str], op: Operation) -> MultiDict[str, str]:
    """A repeated parameter that is not a list read as its last value, as Django's ``QueryDict``
    gives it to DRF (``?limit=2&limit=3`` is ``limit=3``); list parameters keep every value."""
    if not args or all(len(values) == 1 for values in args.listvalues()):
        return args
    return MultiDict([(k, v) for k, values in args.lists() for v in (values if k in op.array_params else values[-1:])])


def _without_empty_values(args: MultiDict[str, str], op: Operation) -> MultiDict[str, str]:
    """The query as DRF's fields read it: an empty value (``?cursor=``) is a parameter not sent.

    DRF's pagination and ordering read ``if value:``, and a serializer's optional field
    treats an empty form value as absent; only a repeated (list) parameter keeps ``""``
    as a value (``?status=`` is ``"" is not a valid choice.``).
    """
    if args and op.array_params and any("[" in key for key in args):
        args = _indexed_lists(args, op.array_params)
    # Most requests carry no query at all, or no empty value in it: leave them as they are.
    if not args or "" not in itertools.chain.from_iterable(args.listvalues()):
        return args
    return MultiDict([(k, v) for k, v in args.items(multi=True) if v != "" or k in op.array_params])


def _indexed_lists(args: MultiDict[str, str], names: frozenset[str]) -> MultiDict[str, str]:
    """A list parameter sent as ``status[0]=…&status[1]=…`` read as ``status=…&status=…``.

    DRF's ``ListField`` falls back to ``parse_html_list`` when the plain name is absent: the
    ``name[N]`` keys in index order, the last value of each (a Django ``QueryDict``'s
    ``items()``). Keys with more after the index (``status[0]x``) name nested objects, which
    no list parameter here takes: they are left alone.

    >>> read = _indexed_lists(MultiDict([("status[1]", "Failed"), ("status[0]", "Running")]), frozenset({"status"}))
    >>> read.getlist("status")
    ['Running', 'Failed']
    """
    found: dict[str, dict[int, str]] = {}
    for key, values in args.lists():
        name, bracket, rest = key.partition("[")
        if not bracket or name not in names or name in args:
            continue
        index, closing, suffix = rest.partition("]")
        if closing and not suffix and index.isascii() and index.isdigit():
            found.setdefault(name, {})[int(index)] = values[-1]
    if not found:
        return args
    read = MultiDict(args)
    for name, items in found.items():
        read.setlist(name, [items[i] for i in sorted(items)])
    return read


def _path_value(name: str, value: str) -> str:
    """A path value as Django's ``UUIDField`` reads it: any spelling of a UUID is the UUID.

    ``…/runs/0194C5A0-…/`` and ``…/runs/0194c5a0…`` (no dashes) name the same run.
    """
    if name == "project_id" or len(value) < 32 or _CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


#: Control-plane routes any client may call: a download's files stand in for PostHog's pre-signed S3 URLs,
#: which whoever was redirected there fetches without credentials, from wherever it runs.
_UNGUARDED = frozenset({"mock_files_retrieve"})


def _key_organization(ctx: Context | None) -> str | None:
    """The organization of the key that authenticated the request (its first: a tenant's key has one)."""
    key = ctx.key if ctx is not None else None
    return key.organization_ids[0] if key is not None and key.organization_ids else None


def _key(ctx: Context) -> str | None:
    return ctx.key.value if ctx.key is not None else None


def _error_reply(error: APIError) -> Reply:
    if isinstance(error, EmptyBodyError):
        return Reply(error.http_status, None, error.headers)
    return Reply(error.http_status, error.body(), error.headers)
