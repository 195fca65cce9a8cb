"""The ``/_mock/`` control plane: tenants, reset, state, the clock, and planned misbehaviour.

Each handler gets the :class:`ControlPlane` (the store, the domain services and the HTTP
layer's planned misbehaviour and journal) and the request's :class:`Context`.
Everything here is also a plain Python call; these handlers only translate:

===================================  ===============================================================
``/_mock/tenants/``                  ``server.store.create_tenant()``
``/_mock/keys/``                     ``server.store.create_api_key(project_id, scopes)``
``/_mock/scenarios/``                ``mockserver.fixtures.load_scenario(name, server)``
``/_mock/reset/``                    ``server.store.reset()`` (also clears faults, latency, journal)
``/_mock/clock/…``                   ``server.store.clock.advance(…)`` / ``.set(…)``
``/_mock/outcomes/``                 ``server.plan_outcomes(export_id, [Outcome(…)])``
``/_mock/outcomes/file_downloads/``  ``server.plan_file_downloads(project_id, [Outcome(…)])``
``/_mock/progression/``              ``server.store.progression = Progression(…)``
``/_mock/faults/``                   ``server.faults.add(operation, status, times=…)``
``/_mock/latency/``                  ``server.latency.set(seconds, operation=…)``
``/_mock/journal/``                  ``server.journal.entries(operation=…)``
===================================  ===============================================================

Bodies and query values are checked against the spec first (a wrong type, a missing
field or an unknown outcome status is a 400 in PostHog's shape); the handlers add the
checks the spec cannot express, such as whether an operation name exists.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from mockserver.clock import MAX_JUMP, Clock, ClockError
from mockserver.domain import outcomes
from mockserver.domain.backend import Backend
from mockserver.domain.dates import format_datetime, parse_datetime
from mockserver.domain.lifecycle import Outcome, Progression
from mockserver.domain.store import ALL_SCOPES, STATE_KINDS, Store, check_tenant_settings
from mockserver.errors import APIError, NotFound, ValidationError
from mockserver.http.context import Context, Reply
from mockserver.http.faults import Faults, Latency, header_problem
from mockserver.http.journal import Journal
from mockserver.http.pagination import limit_offset, page_links
from mockserver.http.spec import canonical_name, operation_suggestions

__all__ = ["HANDLERS", "ControlHandler", "ControlPlane"]


@dataclass(frozen=True)
class ControlPlane:
    """What the ``/_mock/`` handlers work on: one fake's state and its planned misbehaviour."""

    store: Store
    faults: Faults
    latency: Latency
    journal: Journal
    #: Canonical names of every operation, the control plane's included (journal filters).
    operation_names: frozenset[str]
    #: Canonical names of PostHog's operations (what faults and latency may target).
    posthog_operations: frozenset[str]
    #: The domain services, for loading scenarios through the fake's own rules.
    backend: Backend
    #: The spec's checks of a request body (``MockServer.check_body``): scenarios' objects pass them too.
    check_body: Callable[..., dict[str, APIError]]
    #: The fields a request body declares (``MockServer.request_fields``): factories refuse others.
    request_fields: Callable[..., tuple[str, ...]]

    def rehearsal(self, at: datetime | None = None) -> ControlPlane:
        """An empty fake at this one's moment (or ``at``) and default profile, to try a load on.

        Its ids continue from a copy of this fake's: the tenant a load makes there gets the
        ids (integrations included) it will get here, so the two loads take the same path.
        """
        source = self.store
        moment = max(at, source.clock.now()) if at is not None else source.clock.now()
        store = Store(seed=source.ids.seed, clock=Clock(moment), profile=source.default_profile)
        store.ids = copy.deepcopy(source.ids)
        store.limits, store.progression = replace(source.limits), source.progression
        return ControlPlane(
            store=store,
            faults=Faults(self.posthog_operations),
            latency=Latency(self.posthog_operations),
            journal=Journal(0),
            operation_names=self.operation_names,
            posthog_operations=self.posthog_operations,
            backend=Backend(store),
            check_body=self.check_body,
            request_fields=self.request_fields,
        )


#: A control-plane handler.
ControlHandler = Callable[[ControlPlane, Context], Reply]


def tenants_create(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    tenant = plane.store.create_tenant(
        scopes=body.get("scopes", ALL_SCOPES),
        feature_flags=body.get("feature_flags", ()),
        organization_name=body.get("organization_name"),
        project_name=body.get("project_name"),
        profile=body.get("profile"),
    )
    return Reply(201, tenant.to_dict())


def keys_create(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    check_tenant_settings(body["scopes"], ())  # a typo would surface later as a puzzling 403
    try:
        key = plane.store.create_api_key(body["project_id"], body["scopes"])
    except KeyError:
        raise ValidationError(
            f'Invalid pk "{body["project_id"]}" - object does not exist.', code="does_not_exist", attr="project_id"
        ) from None
    created = {
        "api_key": key.value,
        "project_id": key.current_team_id,
        "organization_id": key.organization_ids[0],
        "scopes": list(key.scopes),
    }
    return Reply(201, created)


def projects_create(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    organization_id = str(uuid.UUID(str(body["organization_id"])))  # any spelling of the UUID
    try:
        team = plane.store.add_project(organization_id, body.get("name"))
    except KeyError:
        raise ValidationError(
            f'Invalid pk "{body["organization_id"]}" - object does not exist.', code="does_not_exist",
            attr="organization_id",
        ) from None  # fmt: skip
    created = {
        "project_id": team.id,
        "organization_id": team.organization_id,
        "name": team.name,
        "integrations": plane.store.project_integrations(team.id),
    }
    return Reply(201, created)


def scenarios_list(plane: ControlPlane, ctx: Context) -> Reply:
    from mockserver.fixtures import parse_scenario, shipped_scenarios

    results = []
    for name, path in shipped_scenarios().items():
        description = parse_scenario(path.read_text(), path.name).get("description") or ""
        results.append({"name": name, "description": " ".join(str(description).split())})
    return Reply(200, {"count": len(results), "results": results})


def scenarios_create(plane: ControlPlane, ctx: Context) -> Reply:
    """A new tenant with a scenario loaded: a shipped one by name, or YAML text (never a path)."""
    from mockserver.fixtures import ScenarioError, shipped_scenarios
    from mockserver.fixtures.scenarios import load_scenario_text, scenario_clock_start

    ctx.check_field_errors()
    body = ctx.body
    if ("name" in body) == ("yaml" in body):
        raise ValidationError("Send either a shipped scenario's name or a scenario as yaml.", attr="name")
    if "name" in body:
        shipped = shipped_scenarios()
        if body["name"] not in shipped:
            raise ValidationError(f'"{body["name"]}" is not a valid choice.', code="invalid_choice", attr="name")
        source, text, attr = f"{body['name']}.yaml", shipped[body["name"]].read_text(), "name"
    else:
        source, text, attr = "yaml", body["yaml"], "yaml"
    store = plane.store

    def load() -> Reply:
        # Outside the store's lock (a deferred reply): a clock.start jump takes it in short
        # holds and waits for any other advance, which holds the clock while it waits for
        # the store's lock; jumping with the lock held would deadlock with it.
        try:
            start = scenario_clock_start(text, store.clock.now(), source)
            # A rehearsal first, on a fake of its own at the moment the load will see: a
            # scenario that fails halfway would otherwise leave a tenant with half its
            # objects (and a moved clock) behind a 400.
            with store.lock:
                load_scenario_text(text, plane.rehearsal(at=start), source=source, move_clock=False)
            if start is not None:
                with contextlib.suppress(ClockError):  # another advance went past it meanwhile
                    store.clock.set(start)
            # Again in the very hold of the load (requests between the two holds may have
            # taken the ids the first one predicted): only one that loads whole is loaded.
            with store.lock:
                load_scenario_text(text, plane.rehearsal(), source=source, move_clock=False)
                scenario = load_scenario_text(text, plane, source=source, move_clock=False)
        except ScenarioError as exc:
            raise ValidationError(str(exc), attr=attr) from None
        return Reply(201, scenario.to_dict())

    return Reply.deferred(load)


def reset(plane: ControlPlane, ctx: Context) -> Reply:
    plane.store.reset()
    return Reply(204)


def state(plane: ControlPlane, ctx: Context) -> Reply:
    """The state, narrowed by ``tenant`` (an organization or project id) and ``kind``, paged
    over organizations by ``limit``/``offset``.

    What it shows is taken under the lock, through each tenant's indexes; turning it into
    JSON (most of the work for a big store) happens after the lock is released.
    """
    ctx.refuse_unknown_query()
    query = ctx.query
    store = plane.store
    organization_ids: list[str] | None = None
    project_id: int | None = None
    tenant = query.get("tenant")
    if tenant is not None:
        found = store.tenant_of(str(tenant))
        if found is None:
            raise NotFound("No organization or project with this id.")
        organization_ids, project_id = [found[0]], found[1]
    kinds = None
    if query.get("kind") is not None:
        kinds = [k.strip() for k in str(query["kind"]).split(",") if k.strip()]
        unknown = [k for k in kinds if k not in STATE_KINDS]
        if unknown:
            raise ValidationError(
                f'"{unknown[0]}" is not a valid choice: one of {", ".join(STATE_KINDS)}.',
                code="invalid_choice",
                attr="kind",
            )
    paging: dict[str, Any] | None = None
    if query.get("limit") is not None or query.get("offset") is not None:
        limit, offset = limit_offset(query.get("limit"), query.get("offset"))
        with store.lock:
            every = organization_ids if organization_ids is not None else list(store.organizations)
        organization_ids = every[offset : offset + limit]
        paging = page_links(len(every), limit=limit, offset=offset, base_url=ctx.base_url,
                            query_string=ctx.query_string)  # fmt: skip
    render = store.capture_state(organization_ids, project_id=project_id, kinds=kinds)

    def rendered() -> Reply:
        body = render()
        return Reply(200, {**paging, **body} if paging is not None else body)

    return Reply.deferred(rendered)


def clock(plane: ControlPlane, ctx: Context) -> Reply:
    return Reply(200, {"now": format_datetime(plane.store.clock.now())})


def clock_advance(plane: ControlPlane, ctx: Context) -> Reply:
    """Advance the clock; the scheduler's work runs in short holds of the lock (see ``Clock.pacers``)."""
    ctx.check_field_errors()
    seconds = float(ctx.body["seconds"])
    clock = plane.store.clock

    def advance() -> Reply:
        try:
            now = clock.advance(seconds)
        except ClockError as exc:
            raise ValidationError(f"{str(exc).capitalize()}.", attr="seconds") from None
        return Reply(200, {"now": format_datetime(now)})

    return Reply.deferred(advance)


def clock_set(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.check_field_errors()
    when = parse_datetime(ctx.body["now"])
    if when is None:  # pragma: no cover - the spec's date-time format catches it first
        raise ValidationError("Datetime has wrong format.", code="invalid", attr="now")
    clock = plane.store.clock

    def set_clock() -> Reply:
        if when - clock.now() > MAX_JUMP:
            latest = format_datetime(clock.now() + MAX_JUMP)
            raise ValidationError(
                f"The clock moves at most a century at a time: set it to {latest} at the latest.",
                code="max_value",
                attr="now",
            )
        try:
            now = clock.set(when)
        except ClockError:
            raise ValidationError(
                f"The clock never moves backwards: it is already {format_datetime(clock.now())}.", attr="now"
            ) from None
        return Reply(200, {"now": format_datetime(now)})

    return Reply.deferred(set_clock)


# -- planned outcomes and progression ---------------------------------------------------


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "latest_error": outcome.latest_error,
        "records_completed": outcome.records_completed,
    }


def _queue(export_id: str, queue: list[Outcome]) -> dict[str, Any]:
    return {"batch_export_id": export_id, "outcomes": [_outcome_json(o) for o in queue]}


def outcomes_create(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    export_id = str(body["batch_export_id"])
    return Reply(201, _queue(export_id, outcomes.plan_outcomes(plane.store, export_id, _planned(ctx))))


def outcomes_retrieve(plane: ControlPlane, ctx: Context) -> Reply:
    export_id = str(ctx.query["batch_export_id"])
    return Reply(200, _queue(export_id, outcomes.planned_outcomes(plane.store, export_id)))


def outcomes_destroy(plane: ControlPlane, ctx: Context) -> Reply:
    export_id = ctx.query.get("batch_export_id")
    outcomes.clear_outcomes(plane.store, str(export_id) if export_id is not None else None)
    return Reply(204)


def _planned(ctx: Context) -> list[Outcome]:
    return [
        Outcome(item["status"], item.get("latest_error"), item.get("records_completed"))
        for item in ctx.body.get("outcomes", [])
    ]


def file_download_outcomes_create(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.check_field_errors()
    project_id = int(ctx.body["project_id"])
    queue = outcomes.plan_file_downloads(plane.store, project_id, _planned(ctx))
    return Reply(201, {"project_id": project_id, "outcomes": [_outcome_json(o) for o in queue]})


def file_download_outcomes_retrieve(plane: ControlPlane, ctx: Context) -> Reply:
    project_id = int(ctx.query["project_id"])
    queue = outcomes.planned_file_downloads(plane.store, project_id)
    return Reply(200, {"project_id": project_id, "outcomes": [_outcome_json(o) for o in queue]})


def file_download_outcomes_destroy(plane: ControlPlane, ctx: Context) -> Reply:
    project_id = ctx.query.get("project_id")
    outcomes.clear_file_downloads(plane.store, int(project_id) if project_id is not None else None)
    return Reply(204)


def _progression_json(progression: Progression) -> dict[str, Any]:
    return {"start_after": progression.start_after, "finish_after": progression.finish_after}


def progression_retrieve(plane: ControlPlane, ctx: Context) -> Reply:
    return Reply(200, _progression_json(plane.store.progression))


def progression_update(plane: ControlPlane, ctx: Context) -> Reply:
    """New timings apply to lifecycle steps planned from now on (steps already due keep their time)."""
    ctx.check_field_errors()
    body = ctx.body
    with plane.store.lock:
        plane.store.progression = Progression(float(body["start_after"]), float(body["finish_after"]))
    return Reply(200, _progression_json(plane.store.progression))


# -- faults, latency and the journal -----------------------------------------------------


def _operation(plane: ControlPlane, value: Any, *, control_too: bool = False) -> str | None:
    """A known operationId in any spelling, in canonical form (``None`` stays ``None``)."""
    if value is None:
        return None
    name = canonical_name(str(value))
    known = plane.operation_names if control_too else plane.posthog_operations
    if name not in known:
        close = operation_suggestions(str(value), known)
        detail = f'"{value}" is not a valid choice.' + (f" Did you mean {' or '.join(close)}?" if close else "")
        raise ValidationError(detail, code="invalid_choice", attr="operation_id")
    return name


def _tenant_filter(ctx: Context) -> dict[str, Any]:
    query = ctx.query
    return {"project_id": query.get("project_id"), "api_key": query.get("api_key")}


def faults_create(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    for name, value in (body.get("headers") or {}).items():
        problem = header_problem(name, value)
        if problem is not None:
            raise ValidationError(problem, attr="headers")
    status, drop, delay = body.get("status"), bool(body.get("drop", False)), float(body.get("delay") or 0)
    if drop and status is not None:
        raise ValidationError("A dropped connection answers no status.", code="invalid", attr="status")
    if status is None and not drop and not delay:
        raise ValidationError("A fault needs a status, a drop or a delay.", code="required", attr="status")
    _check_scope(plane, body)
    fault = plane.faults.add(
        _operation(plane, body.get("operation_id")),
        status,
        times=body.get("times", 1),
        headers=body.get("headers"),
        body=body.get("body"),
        project_id=body.get("project_id"),
        api_key=body.get("api_key"),
        drop=drop,
        delay=delay,
    )
    return Reply(201, fault.to_dict())


def _check_scope(plane: ControlPlane, body: dict[str, Any]) -> None:
    """A fault or latency rule for a project or key that does not exist would never apply: say so."""
    project_id, api_key = body.get("project_id"), body.get("api_key")
    if project_id is not None and not plane.store.has_project(project_id):
        raise ValidationError(
            f'Invalid pk "{project_id}" - object does not exist.', code="does_not_exist", attr="project_id"
        )
    if api_key is not None and not plane.store.has_api_key(api_key):
        raise ValidationError("No personal API key of this fake has this value.", code="does_not_exist",
                              attr="api_key")  # fmt: skip


def faults_list(plane: ControlPlane, ctx: Context) -> Reply:
    faults = plane.faults.active(**_tenant_filter(ctx))
    return Reply(200, {"count": len(faults), "results": [f.to_dict() for f in faults]})


def faults_destroy(plane: ControlPlane, ctx: Context) -> Reply:
    plane.faults.clear(**_tenant_filter(ctx))
    return Reply(204)


def latency_create(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    _check_scope(plane, body)
    rule = plane.latency.set(
        float(body["seconds"]),
        operation=_operation(plane, body.get("operation_id")),
        project_id=body.get("project_id"),
        api_key=body.get("api_key"),
    )
    return Reply(201, rule.to_dict())


def latency_list(plane: ControlPlane, ctx: Context) -> Reply:
    rules = plane.latency.rules(**_tenant_filter(ctx))
    return Reply(200, {"count": len(rules), "results": [r.to_dict() for r in rules]})


def latency_destroy(plane: ControlPlane, ctx: Context) -> Reply:
    plane.latency.clear(**_tenant_filter(ctx))
    return Reply(204)


def journal_list(plane: ControlPlane, ctx: Context) -> Reply:
    ctx.refuse_unknown_query()
    query = ctx.query
    journal = plane.journal
    found = journal.entries(
        operation=_operation(plane, query.get("operation_id"), control_too=True),
        project_id=query.get("project_id"),
        method=query.get("method"),
        status=query.get("status"),
        since=query.get("since"),
    )
    limit = query.get("limit")
    shown = found[-limit:] if limit else found
    return Reply(
        200, {"count": len(found), "max_entries": journal.max_entries, "results": [e.to_dict() for e in shown]}
    )


def journal_destroy(plane: ControlPlane, ctx: Context) -> Reply:
    plane.journal.clear()
    return Reply(204)


HANDLERS: dict[str, ControlHandler] = {
    "mock_tenants_create": tenants_create,
    "mock_keys_create": keys_create,
    "mock_projects_create": projects_create,
    "mock_reset_create": reset,
    "mock_scenarios_list": scenarios_list,
    "mock_scenarios_create": scenarios_create,
    "mock_state_retrieve": state,
    "mock_clock_retrieve": clock,
    "mock_clock_advance_create": clock_advance,
    "mock_clock_set_create": clock_set,
    "mock_outcomes_retrieve": outcomes_retrieve,
    "mock_outcomes_create": outcomes_create,
    "mock_outcomes_destroy": outcomes_destroy,
    "mock_file_download_outcomes_retrieve": file_download_outcomes_retrieve,
    "mock_file_download_outcomes_create": file_download_outcomes_create,
    "mock_file_download_outcomes_destroy": file_download_outcomes_destroy,
    "mock_progression_retrieve": progression_retrieve,
    "mock_progression_update": progression_update,
    "mock_faults_list": faults_list,
    "mock_faults_create": faults_create,
    "mock_faults_destroy": faults_destroy,
    "mock_latency_list": latency_list,
    "mock_latency_create": latency_create,
    "mock_latency_destroy": latency_destroy,
    "mock_journal_list": journal_list,
    "mock_journal_destroy": journal_destroy,
}
