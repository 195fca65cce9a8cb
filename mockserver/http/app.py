"""The WSGI application: request in, PostHog-shaped response out.

One request flows through :meth:`MockServer.handle`:

1. route by the spec's paths (werkzeug ``Map``; unknown path → 404 ``Endpoint not found.``);
2. validate against the spec with openapi-core (errors are kept, raised where PostHog would);
3. authenticate the personal API key (401), check its scope (403);
4. resolve the project or organization in the URL (404/403); a method the path does not
   have answers 405 only now, as DRF does after its permission checks;
5. call the handler named by the operation; it returns a :class:`Reply` or raises an
   :class:`~mockserver.errors.APIError`;
6. turn errors into PostHog's body (the only place that does), encode JSON, and in strict
   mode check the response against the spec.

The whole request runs under the store's lock, so concurrent clients see one request
at a time: the fake's state is never half-written.

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

import json
import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import MethodNotAllowed as WzMethodNotAllowed
from werkzeug.exceptions import NotFound as WzNotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from mockserver.clock import Clock
from mockserver.domain.backend import Backend
from mockserver.domain.store import Store
from mockserver.errors import APIError, MethodNotAllowed, NotFound
from mockserver.http import auth
from mockserver.http.context import Context, Reply
from mockserver.http.spec import Operation, Spec, load_spec
from mockserver.http.validation import ResponseContractError, SpecValidator

__all__ = ["MockServer"]

log = logging.getLogger("mockserver")

Handler = Callable[[Context], Reply]


def canonical_name(operation_id: str) -> str:
    """``environments_batch_exports_list`` / ``batch_exports_list_2`` → ``batch_exports_list``."""
    name = operation_id.removeprefix("environments_")
    return name[:-2] if name.endswith("_2") else name


class MockServer:
    """The fake PostHog batch-exports API as a WSGI app.

    Args:
        store: the state to serve; a new one (seeded with ``seed``) by default.
        seed: seed for a new store's ids and generated values.
        clock: clock for a new store; frozen at a fixed instant by default.
        strict: validate every response against the spec and raise on a mismatch.
        spec: the parsed OpenAPI document (the packaged one by default).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        strict: bool = False,
        spec: Spec | None = None,
    ) -> None:
        from mockserver.http.handlers import HANDLERS

        self.store = store or Store(seed=seed, clock=clock)
        self.spec = spec or load_spec()
        self.validator = SpecValidator(self.spec)
        self.strict = strict
        #: The domain services (batch exports, scheduler, runs, backfills) over the store.
        self.backend = Backend(self.store)
        self.batch_exports = self.backend.batch_exports
        self.url_map = Map(
            [Rule(op.rule, endpoint=op.operation_id, methods=[op.method]) for op in self.spec.operations.values()],
            strict_slashes=False,
        )
        self.handlers: dict[str, Handler] = {}
        for op in self.spec.operations.values():
            self.handlers[op.operation_id] = HANDLERS[canonical_name(op.operation_id)]
        #: Unexpected exceptions raised while handling requests (a bug in the fake);
        #: the pytest plugin re-raises them in the test that caused them.
        self.errors: list[BaseException] = []

    # -- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Answer one request (the whole pipeline described in the module docstring)."""
        routed: list[Operation] = []  # the operation, once routing found one
        try:
            with self.store.lock:
                self.backend.engine.catch_up()  # a real or accelerated clock moved on its own
                reply = self._dispatch(request, routed)
        except APIError as error:
            reply = _error_reply(error)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake: report it, answer PostHog-style
            self.errors.append(exc)
            log.error("unhandled error in the fake:\n%s", traceback.format_exc())
            reply = Reply(
                500, {"type": "server_error", "code": "error", "detail": "A server error occurred.", "attr": None}
            )
        response = self._encode(reply)
        if self.strict and routed:
            self._check_contract(routed[0], request, response)
        return response

    # -- pipeline --------------------------------------------------------------------

    def _dispatch(self, request: Request, routed: list[Operation]) -> Reply:
        adapter = self.url_map.bind_to_environ(request.environ)
        not_allowed: WzMethodNotAllowed | None = None
        try:
            operation_id, path_params = adapter.match()
        except WzNotFound:
            raise NotFound("Endpoint not found.") from None
        except WzMethodNotAllowed as exc:
            not_allowed = exc
            operation_id, path_params = self._any_operation_at(adapter, exc)
        op = self.spec.operations[str(operation_id)]
        if not_allowed is None:
            routed.append(op)
        parsed = self.validator.parse_request(
            op,
            path=request.path,
            query=request.args,
            headers=request.headers,
            body=request.get_data() if not_allowed is None else b"",
            content_type=request.mimetype,
        )
        ctx = Context(
            server=self,
            op=op,
            parsed=parsed,
            path_params={k: str(v) for k, v in path_params.items()},
            base_url=request.base_url,
            query_string=request.query_string.decode("latin-1"),
            raw_query={k: request.args.getlist(k) for k in request.args},
        )
        if op.level != "control":
            body = parsed.body if parsed.body_error is None else None
            ctx.key = auth.authenticate(self.store, request.headers, request.args, body)
            auth.check_scope(ctx.key, op.scope)
            if op.level == "team":
                ctx.team = auth.resolve_team(self.store, ctx.key, ctx.path_params["project_id"])
            else:
                ctx.organization = auth.resolve_organization(self.store, ctx.key, ctx.path_params["organization_id"])
        if not_allowed is not None:
            allowed = sorted(m for m in (not_allowed.valid_methods or []) if m != "HEAD")
            raise MethodNotAllowed(request.method, [*allowed, "OPTIONS"] if allowed else None)
        return self.handlers[op.operation_id](ctx)

    def _any_operation_at(self, adapter: Any, exc: WzMethodNotAllowed) -> tuple[str, dict[str, Any]]:
        """For a 405: some operation at the same path, so auth and tenancy can be checked first."""
        method = sorted(exc.valid_methods or ["GET"])[0]
        endpoint, params = adapter.match(method=method)
        return str(endpoint), params

    # -- responses -------------------------------------------------------------------

    def _encode(self, reply: Reply) -> Response:
        if reply.body is None:
            response = Response(b"", status=reply.status)
            response.headers.remove("Content-Type")
        else:
            payload = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode()
            response = Response(payload, status=reply.status, mimetype="application/json")
        for name, value in reply.headers.items():
            response.headers[name] = value
        return response

    def _check_contract(self, op: Operation, request: Request, response: Response) -> None:
        if response.status_code == 500:
            return  # already recorded in self.errors as a bug of the fake
        try:
            self.validator.check_response(
                op,
                path=request.path,
                query=request.args,
                headers=request.headers,
                status=response.status_code,
                body=response.get_data(),
                content_type=response.mimetype or "",
                response_headers=dict(response.headers),
            )
        except ResponseContractError as exc:
            self.errors.append(exc)
            raise


def _error_reply(error: APIError) -> Reply:
    from mockserver.errors import EmptyBodyError

    if isinstance(error, EmptyBodyError):
        return Reply(error.http_status, None, error.headers)
    return Reply(error.http_status, error.body(), error.headers)
