"""Phase ``schemathesis``: every PostHog operation of the spec through schemathesis' engine.

schemathesis generates requests from ``spec/openapi.yaml`` (its ``examples``, then
up to ``max_examples`` generated cases per operation, half of them positive and half
negative, then ``max_examples`` random walks along the
spec's OpenAPI ``links``: create → retrieve/patch/pause/unpause/delete, backfill →
runs, file download → retrieve/download/cancel) and judges each response with its
checks. Every failure becomes a :class:`~mockserver.contract.report.Violation` named
``ST:<check>`` with the ``curl`` lines that reproduce it; every check that ran and never
failed is reported as passed under the same name.

The target only ever sees:

* the project (and organization) of the phase's credentials: ``project_id`` and
  ``organization_id`` are fixed, never generated;
* ``Authorization: Bearer <key>`` (``ignored_auth`` removes or spoils it on purpose);
* ids of objects this phase created. Before each request, an ``id`` or
  ``batch_export_id`` that is a UUID the phase did not create (nor read back from one of
  its own objects) is swapped for a UUID that names nothing. So an id read from a list,
  or from the spec's examples, can never reach another user's export against a real
  PostHog, whatever schemathesis' link inference links together. Non-UUID values go
  through as generated: they name nothing either, and are how negative cases probe
  the path.

Every export it creates is registered with the workspace, which deletes it at the end
(even on failure or Ctrl-C); file downloads, which cannot be deleted, are cancelled.
Against a target without the fake's control plane, created exports are also renamed
``contract-<run id>-<n>`` so that a leftover is recognisable, and every export it creates or
updates gets a ``NoOp`` destination: nothing it makes can deliver a real project's events.

The deterministic ``coverage`` phase of schemathesis is off by default: it is not
bounded by ``max_examples`` and sends about 8,400 requests to this spec (most of them
body variants of writes to ids that do not exist). ``coverage=True`` turns it on.
"""

from __future__ import annotations

import contextlib
import copy
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mockserver.contract.report import PhaseResult, Violation
from mockserver.contract.target import Exchange, Response, Unreachable
from mockserver.contract.workspace import Credentials, Workspace
from mockserver.http.spec import load_spec

if TYPE_CHECKING:
    from schemathesis.core.transport import Response as STResponse
    from schemathesis.generation.case import Case
    from schemathesis.schemas import BaseSchema

__all__ = ["CHECKS", "DISABLED_CHECKS", "run_schemathesis_phase"]

#: schemathesis' checks that run, and what each expects of a response.
CHECKS: dict[str, str] = {
    "not_a_server_error": "no 5xx response, whatever the request",
    "status_code_conformance": "a status code the spec documents for the operation",
    "content_type_conformance": "the Content-Type the spec documents for that status",
    "response_headers_conformance": "the headers the spec requires for that status",
    "response_schema_conformance": "a body that matches the spec's schema for that status",
    "negative_data_rejection": "a 4xx for a request that violates the spec",
    "unsupported_method": "405 for a method the path does not offer",
    "allow_header_conformance": "an Allow header on a 405 that lists the path's methods",
    "use_after_free": "404 for an object after it was deleted",
    "ensure_resource_availability": "a created object can be read back at once",
    "ignored_auth": "401 without credentials and with invalid ones",
}

#: Checks that cannot hold for this API, and why.
DISABLED_CHECKS: dict[str, str] = {
    # Schema-valid is not valid here: PostHog answers 400 to bodies the schema cannot rule
    # out (a backfill ending in the future or before it starts, a destination config
    # missing a key its type needs), and to state conflicts (cancelling a finished run,
    # downloading before the file exists). Schema-valid requests get 400 by design.
    "positive_data_acceptance": "the API rejects schema-valid requests on business rules (400 by design)",
    # Needs a second identity configured inside schemathesis; tenant isolation is checked
    # by the exports and auth phases with another organization's key.
    "object_level_authorization": "tenant isolation is checked by the exports and auth phases",
    # The spec declares no header parameters (credentials are ``ignored_auth``'s part),
    # so this check would pass without ever judging anything.
    "missing_required_header": "the spec declares no header parameters",
}

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ID_PARAMS = ("id", "batch_export_id")
_EXPORT_CREATE = re.compile(r"^/api/(projects|environments|organizations)/[^/]+/batch_exports/?$")
_EXPORT_DETAIL = re.compile(r"^/api/(projects|environments|organizations)/[^/]+/batch_exports/\{id\}/?$")
_DOWNLOAD_CREATE = re.compile(r"^/api/(projects|environments)/[^/]+/file_download_batch_exports/?$")
#: How many violations of one check are listed; the rest are counted.
_MAX_PER_CHECK = 5


def run_schemathesis_phase(
    workspace: Workspace,
    result: PhaseResult,
    *,
    max_examples: int,
    seed: int,
    coverage: bool = False,
    max_steps: int = 10,
    paths: str | None = None,
) -> None:
    """Run schemathesis against ``workspace.target`` and record what it found in ``result``.

    Args:
        max_examples: generated cases per operation, half positive and half negative
            (a fifth of that on the ``/api/environments/`` alias), and the number of
            stateful scenarios.
        seed: fixes every generated value.
        coverage: also run schemathesis' deterministic coverage phase (see the module doc).
        max_steps: the longest chain of linked calls in one stateful scenario.
        paths: a regular expression: only operations whose path template matches it
            (``None``: every PostHog operation).
    """
    import schemathesis
    from schemathesis.engine import from_schema

    creds = workspace.credentials()
    footprint = _Footprint(workspace, creds, random.Random(seed))
    schema = _schema(
        workspace, creds, max_examples=max_examples, seed=seed, coverage=coverage, max_steps=max_steps, paths=paths
    )

    # schemathesis takes ``before_call``/``after_call`` hooks only process-wide: these
    # are registered for the duration of the phase and act on this phase's schema only.
    def before_call(context: Any, case: Case[Any], kwargs: dict[str, Any]) -> None:
        if case.operation.schema is schema:
            footprint.before_call(case)

    def after_call(context: Any, case: Case[Any], response: STResponse) -> None:
        if case.operation.schema is schema:
            footprint.after_call(case, response)

    def filter_failure(context: Any, failure: Any, case: Case[Any], response: STResponse) -> bool:
        return not _outlives_its_export(failure)

    if creds.organization_id is None:
        result.skipped("ST:organization-routes", "no --organization-id given and no control plane to make one")
    schema.hook(filter_failure)
    collector = _Collector(workspace, creds)
    schemathesis.hook(before_call)
    schemathesis.hook(after_call)
    stream = from_schema(schema).execute()
    try:
        for event in stream:
            collector.see(event)
    except BaseException:
        # Ctrl-C or a failing target: let schemathesis' worker finish the request it is
        # in (so that an export it creates is still registered), then clean up.
        stream.stop()
        with contextlib.suppress(BaseException):
            for _ in stream:
                pass
        raise
    finally:
        schemathesis.hooks.unregister(before_call)
        schemathesis.hooks.unregister(after_call)
        footprint.finish()
    collector.record(result)


def _schema(
    workspace: Workspace,
    creds: Credentials,
    *,
    max_examples: int,
    seed: int,
    coverage: bool,
    max_steps: int,
    paths: str | None,
) -> BaseSchema:
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    target = workspace.target
    parameters: dict[str, Any] = {"project_id": str(creds.project_id)}
    if creds.organization_id is not None:
        parameters["organization_id"] = creds.organization_id
    settings: dict[str, Any] = {
        "seed": seed,
        # Hypothesis' health checks judge the generator, not the target (and cost time).
        "suppress-health-check": ["all"],
        "headers": {"Authorization": f"Bearer {creds.api_key}"},
        "parameters": parameters,
        "workers": 1,
        "request-timeout": target.timeout,
        # schemathesis runs positive and negative generation as two tests of
        # ``max-examples`` each: half of the budget each keeps the operation's total to it.
        "generation": {"max-examples": -(-max_examples // 2), "database": "none"},
        # ``/api/environments/`` is a documented alias of ``/api/projects/``: every check
        # and link still runs there, on a fifth of the examples (it halves the phase's time).
        "operations": [
            {"include-path-regex": "^/api/environments/", "generation": {"max-examples": -(-max_examples // 10)}}
        ],
        "phases": {
            "coverage": {"enabled": coverage},
            "stateful": {"max-steps": max_steps, "generation": {"max-examples": max_examples}},
        },
        # Literals mined from the app's Python source: only possible in process, where
        # the two modes would then ask different questions.
        "analysis": {"constants": {"enabled": False}},
        # The failure cache lives in ``./.schemathesis/`` and replays old failures first:
        # a contract run must neither write to the user's directory nor depend on it.
        "cache": {"enabled": False},
    }
    if target.app is None:
        assert target.base_url is not None
        settings["base-url"] = target.base_url.rstrip("/")
    # An explicit config also keeps schemathesis from reading a ``schemathesis.toml`` it
    # finds in the current directory (a user's project may well have one).
    document = _document(creds, paths, workspace.target.profile)
    schema = schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_dict(settings))
    config = schema.config
    config.checks.update(included_check_names=list(CHECKS))
    if target.app is not None:
        _in_process(schema, target.app)
    return schema


def _fake_only(item: dict[str, Any]) -> bool:
    """A path of the fake's own (tag ``mock_control``, such as ``/api/schema/``), not of PostHog's API."""
    operations = [op for op in item.values() if isinstance(op, dict) and "operationId" in op]
    return bool(operations) and all("mock_control" in op.get("tags", ()) for op in operations)


def _document(creds: Credentials, paths: str | None, profile: str) -> dict[str, Any]:
    """The spec as schemathesis should read it: PostHog's operations only, as the target's profile
    has them, leniencies spelled out."""
    document = copy.deepcopy(load_spec(profile=profile).document)
    document["paths"] = {
        path: item
        for path, item in document["paths"].items()
        if not path.startswith("/_mock/")
        and not _fake_only(item)
        and (creds.organization_id is not None or not path.startswith("/api/organizations/"))
        and (paths is None or re.search(paths, path))
    }
    kept = {op["operationId"] for item in document["paths"].values() for op in item.values() if "operationId" in op}
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation.get("responses", {}).values() if isinstance(operation, dict) else ():
                links = response.get("links")
                if links:
                    response["links"] = {name: link for name, link in links.items() if link["operationId"] in kept}
    # ``x-fallback-on-invalid``: PostHog ignores an invalid value and uses the default,
    # so every value is acceptable and none is "negative" (``?offset=abc`` is 200).
    for parameter in document["components"]["parameters"].values():
        if parameter.get("x-fallback-on-invalid"):
            parameter["schema"] = {}
    # An empty value of an optional query parameter is one not sent: DRF reads ``''`` from a
    # query string as absent for a field that is not required, and the views read their raw
    # parameters with ``if value:``. Only a repeated (list) parameter keeps ``''`` as a value.
    parameters = list(document["components"]["parameters"].values())
    for item in document["paths"].values():
        for operation in [item, *item.values()]:
            if isinstance(operation, dict):
                parameters += [p for p in operation.get("parameters", ()) if "$ref" not in p]
    for parameter in parameters:
        schema = parameter.get("schema")
        optional = parameter.get("in") == "query" and not parameter.get("required")
        if optional and schema and schema.get("type") != "array":
            parameter["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    return document


def _in_process(schema: BaseSchema, app: Any) -> None:
    """Call ``app`` through schemathesis' WSGI support.

    schemathesis 4.32.5 hands the socket-only settings of a run (``max_redirects``,
    ``verify``, ``cert``) to werkzeug's test client when a check sends a probe of its
    own (``ignored_auth``'s request without credentials), and werkzeug refuses them with
    a ``TypeError``. This transport drops them first; nothing else changes.
    """
    from schemathesis.transport.wsgi import WSGI_TRANSPORT, WSGITransport

    class _Transport(WSGITransport):
        def send(self, case: Case[Any], *, session: Any = None, **kwargs: Any) -> STResponse:
            if session is None:
                for name in ("max_redirects", "verify", "cert", "proxies"):
                    kwargs.pop(name, None)
            return super().send(case, session=session, **kwargs)

    transport = _Transport()
    transport._serializers = WSGI_TRANSPORT._serializers  # the media types schemathesis knows
    schema.app = app
    schema.__class__ = type(
        "InProcessSchema",
        (type(schema),),
        {"__slots__": (), "transport": property(lambda self: transport)},
    )


class _Footprint:
    """What the phase created, and the guard that keeps it away from everything else."""

    def __init__(self, workspace: Workspace, creds: Credentials, rng: random.Random) -> None:
        self.workspace = workspace
        self.creds = creds
        self.rng = rng
        #: Ids of objects this phase created or read back from objects it created.
        self.owned: set[str] = set()
        #: Export id → its delete path.
        self.exports: dict[str, str] = {}
        #: Cancel paths of the file downloads it started.
        self.downloads: list[str] = []
        self.rename = not workspace.has_control_plane

    def before_call(self, case: Case[Any]) -> None:
        for name in _ID_PARAMS:
            value = (case.path_parameters or {}).get(name)
            if isinstance(value, str) and _UUID.match(value) and value.lower() not in self.owned:
                case.path_parameters[name] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if not self.rename or not isinstance(case.body, dict):
            return
        method, template = case.method.upper(), case.operation.path
        if method == "POST" and _EXPORT_CREATE.match(template) and isinstance(case.body.get("name"), str):
            case.body["name"] = self.workspace.name()
        writes_export = (method == "POST" and _EXPORT_CREATE.match(template)) or (
            method in ("PUT", "PATCH") and _EXPORT_DETAIL.match(template)
        )
        destination = case.body.get("destination")
        if writes_export and isinstance(destination, dict) and destination.get("type") != "NoOp":
            # Against a real PostHog an export could deliver the project's events (the spec's
            # HTTP example, an integration the project happens to have): every export this
            # phase writes goes to NoOp. schemathesis re-judges the case after the change,
            # so a negative case that is now valid is not expected to fail.
            case.body["destination"] = {"type": "NoOp", "config": {}}

    def after_call(self, case: Case[Any], response: STResponse) -> None:
        if self.workspace.on_response is not None:
            self.workspace.on_response(_exchange(response))
        if not 200 <= response.status_code < 300:
            return
        try:
            body = response.json()
        except Exception:  # noqa: BLE001 - any body that is not JSON names no object
            body = None
        method, template, path = case.method.upper(), case.operation.path, case.formatted_path
        created = method == "POST" and isinstance(body, dict) and isinstance(body.get("id"), str)
        if created and response.status_code == 201 and _EXPORT_CREATE.match(template):
            export_id = body["id"]
            delete_path = path.rstrip("/") + f"/{export_id}/"
            self.exports[export_id.lower()] = delete_path
            self.workspace.created(f"batch export {body.get('name')!r}", delete_path, self.creds.api_key)
        elif created and _DOWNLOAD_CREATE.match(template):
            self.downloads.append(path.rstrip("/") + f"/{body['id']}/cancel/")
        ids = [str(v).lower() for k, v in (case.path_parameters or {}).items() if k in _ID_PARAMS]
        if (method == "POST" and not ids) or (ids and all(i in self.owned for i in ids)):
            self.owned.update(_uuids(body))
        if method == "DELETE" and response.status_code == 204 and ids and ids[-1] in self.exports:
            self.workspace.forget(self.exports.pop(ids[-1]))

    def finish(self) -> None:
        """Cancel the file downloads still running (they have no DELETE)."""
        if not self.downloads:
            return
        client = self.workspace.client(self.creds.api_key)
        for path in self.downloads:
            try:
                client.post(path)
            except Unreachable:
                return


def _exchange(response: STResponse) -> Exchange:
    """schemathesis' request and response as the suite's own :class:`Exchange` (for progress)."""
    request = response.request
    parts = urlsplit(str(request.url))
    raw = request.body
    body = raw.encode() if isinstance(raw, str) else raw if isinstance(raw, bytes) else None
    answer = Response(
        response.status_code, {name: values[-1] for name, values in response.headers.items()}, response.content
    )
    url = parts.path + (f"?{parts.query}" if parts.query else "")
    method = str(request.method)
    headers = {str(name): str(value) for name, value in request.headers.items()}
    return Exchange(method, f"{parts.scheme}://{parts.netloc}", url, headers, body, answer)


def _outlives_its_export(failure: Any) -> bool:
    """A run or backfill read after its export was deleted: the spec keeps them readable.

    Deleting an export is a soft delete in PostHog; its runs and backfills stay readable
    under ``/batch_exports/{batch_export_id}/runs/`` and ``…/backfills/``, which
    ``use_after_free`` (a prefix match on the deleted path) would otherwise call a
    use after free. Reads of the export itself still count.
    """
    from schemathesis.openapi.checks import UseAfterFree

    if not isinstance(failure, UseAfterFree):
        return False
    freed = failure.free.split(" ", 1)[-1].rstrip("/")
    used = failure.usage.split(" ", 1)[-1].split("?", 1)[0]
    return bool(re.match(re.escape(freed) + r"/(runs|backfills)(/|$)", used))


def _uuids(value: Any) -> Iterator[str]:
    """Every UUID held under an ``…id`` key, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and key.endswith("id") and _UUID.match(item):
                yield item.lower()
            else:
                yield from _uuids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _uuids(item)


@dataclass
class _Found:
    violation: Violation
    times: int = 1


@dataclass
class _Collector:
    """Turns schemathesis' event stream into the phase's result."""

    workspace: Workspace
    creds: Credentials
    ran: set[str] = field(default_factory=set)
    found: dict[tuple[str, str, str], _Found] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    unreachable: str | None = None

    def see(self, event: Any) -> None:
        from schemathesis.engine import StopReason, events

        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            self.workspace.requests += len(recorder.interactions)
            for nodes in recorder.checks.values():
                for node in nodes:
                    self.ran.add(node.name)
                    if node.failure_info is not None:
                        self._failure(node.name, node.failure_info)
        elif isinstance(event, events.NonFatalError):
            self.errors.append(f"{event.label}: {(str(event.value).strip().splitlines() or [''])[0]}")
        elif isinstance(event, events.FatalError):
            self.errors.append(f"schemathesis stopped: {event.exception}")
        elif isinstance(event, events.Interrupted):
            raise KeyboardInterrupt
        elif isinstance(event, events.EngineFinished) and event.stop_reason == StopReason.SERVER_UNAVAILABLE:
            self.unreachable = "the server stopped responding during the schemathesis phase"

    def _failure(self, check: str, info: Any) -> None:
        failure = info.failure
        key = (check, str(failure.operation), str(failure.title))
        if key in self.found:
            self.found[key].times += 1
            return
        curls = [_curl(step.curl, self.workspace, self.creds) for step in info.steps] or [
            _curl(info.code_sample, self.workspace, self.creds)
        ]
        first, _, rest = (failure.message or "").strip().partition("\n")
        actual = f"{failure.title}: {first.strip()}" if first.strip() else str(failure.title)
        detail = f"operation: {failure.operation}\n{rest.strip()}".strip()
        self.found[key] = _Found(
            Violation(f"ST:{check}", CHECKS.get(check, check), actual, requests=curls, detail=detail)
        )

    def record(self, result: PhaseResult) -> None:
        if self.unreachable:
            raise Unreachable(self.unreachable)
        per_check: dict[str, list[_Found]] = {}
        for (check, _operation, _title), found in self.found.items():
            per_check.setdefault(check, []).append(found)
        for founds in per_check.values():
            for found in founds[:_MAX_PER_CHECK]:
                if found.times > 1:
                    found.violation.detail += f"\n(seen {found.times} times)"
                result.failed(found.violation)
            if len(founds) > _MAX_PER_CHECK:
                hidden = len(founds) - _MAX_PER_CHECK
                result.violations[-1].detail += f"\n({hidden} more failure(s) of this check not shown)"
        failed = set(per_check)
        for check in sorted(CHECKS):
            if check in self.ran and check not in failed:
                result.passed(f"ST:{check}")
            elif check not in self.ran:
                result.skipped(f"ST:{check}", "no request gave this check anything to judge")
        for check, reason in sorted(DISABLED_CHECKS.items()):
            result.skipped(f"ST:{check}", reason)
        if self.errors:
            shown = "; ".join(self.errors[:3])
            more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
            result.error = f"schemathesis could not finish {len(self.errors)} test(s): {shown}{more}"


def _curl(command: str, workspace: Workspace, creds: Credentials) -> str:
    """schemathesis' ``curl`` line in the report's own style: the key as ``$POSTHOG_API_KEY``
    (a throwaway tenant's as it is: it runs as it stands)."""
    key = creds.api_key if creds.throwaway else "$POSTHOG_API_KEY"
    command = command.replace("-H 'Authorization: [Filtered]'", f'-H "Authorization: Bearer {key}"')
    if workspace.target.app is not None:
        command = command.replace(" --insecure", "")
    return command
