"""The ``/_mock/`` control plane: tenants, reset, state, the clock, and planned misbehaviour.

Everything here is also a plain Python call; these handlers only translate:

==========================  ================================================================
``/_mock/tenants/``         ``server.store.create_tenant()``
``/_mock/reset/``           ``server.store.reset()`` (also clears faults, latency, journal)
``/_mock/clock/…``          ``server.store.clock.advance(…)`` / ``.set(…)``
``/_mock/outcomes/``        ``server.plan_outcomes(export_id, [Outcome(…)])``
``/_mock/progression/``     ``server.store.progression = Progression(…)``
``/_mock/faults/``          ``server.faults.add(operation, status, times=…)``
``/_mock/latency/``         ``server.latency.set(seconds, operation=…)``
``/_mock/journal/``         ``server.journal.entries(operation=…)``
==========================  ================================================================

Bodies and query values are checked against the spec first (a wrong type, a missing
field or an unknown outcome status is a 400 in PostHog's shape); the handlers add the
checks the spec cannot express, such as whether an operation name exists.
"""

from __future__ import annotations

from typing import Any

from mockserver.clock import ClockError
from mockserver.domain import outcomes
from mockserver.domain.dates import format_datetime, parse_datetime
from mockserver.domain.lifecycle import Outcome, Progression
from mockserver.domain.store import ALL_SCOPES
from mockserver.errors import ValidationError
from mockserver.http.context import Context, Reply
from mockserver.http.faults import canonical_name

__all__ = ["HANDLERS"]


def tenants_create(ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    tenant = ctx.store.create_tenant(
        scopes=body.get("scopes", ALL_SCOPES),
        feature_flags=body.get("feature_flags", ()),
        organization_name=body.get("organization_name"),
        project_name=body.get("project_name"),
    )
    return Reply(201, tenant.to_dict())


def reset(ctx: Context) -> Reply:
    ctx.store.reset()
    return Reply(204)


def state(ctx: Context) -> Reply:
    return Reply(200, ctx.store.snapshot())


def clock(ctx: Context) -> Reply:
    return Reply(200, {"now": format_datetime(ctx.store.clock.now())})


def clock_advance(ctx: Context) -> Reply:
    ctx.check_field_errors()
    try:
        now = ctx.store.clock.advance(float(ctx.body["seconds"]))
    except ClockError as exc:
        raise ValidationError(f"{str(exc).capitalize()}.", attr="seconds") from None
    return Reply(200, {"now": format_datetime(now)})


def clock_set(ctx: Context) -> Reply:
    ctx.check_field_errors()
    when = parse_datetime(ctx.body["now"])
    if when is None:  # pragma: no cover - the spec's date-time format catches it first
        raise ValidationError("Datetime has wrong format.", code="invalid", attr="now")
    try:
        now = ctx.store.clock.set(when)
    except ClockError:
        raise ValidationError(
            f"The clock never moves backwards: it is already {format_datetime(ctx.store.clock.now())}.", attr="now"
        ) from None
    return Reply(200, {"now": format_datetime(now)})


# -- planned outcomes and progression ---------------------------------------------------


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "latest_error": outcome.latest_error,
        "records_completed": outcome.records_completed,
    }


def _queue(export_id: str, queue: list[Outcome]) -> dict[str, Any]:
    return {"batch_export_id": export_id, "outcomes": [_outcome_json(o) for o in queue]}


def outcomes_create(ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    planned = [
        Outcome(item["status"], item.get("latest_error"), item.get("records_completed"))
        for item in body.get("outcomes", [])
    ]
    export_id = str(body["batch_export_id"])
    return Reply(201, _queue(export_id, outcomes.plan_outcomes(ctx.store, export_id, planned)))


def outcomes_retrieve(ctx: Context) -> Reply:
    export_id = str(ctx.query["batch_export_id"])
    return Reply(200, _queue(export_id, outcomes.planned_outcomes(ctx.store, export_id)))


def outcomes_destroy(ctx: Context) -> Reply:
    export_id = ctx.query.get("batch_export_id")
    outcomes.clear_outcomes(ctx.store, str(export_id) if export_id is not None else None)
    return Reply(204)


def _progression_json(progression: Progression) -> dict[str, Any]:
    return {"start_after": progression.start_after, "finish_after": progression.finish_after}


def progression_retrieve(ctx: Context) -> Reply:
    return Reply(200, _progression_json(ctx.store.progression))


def progression_update(ctx: Context) -> Reply:
    """New timings apply to lifecycle steps planned from now on (steps already due keep their time)."""
    ctx.check_field_errors()
    body = ctx.body
    with ctx.store.lock:
        ctx.store.progression = Progression(float(body["start_after"]), float(body["finish_after"]))
    return Reply(200, _progression_json(ctx.store.progression))


# -- faults, latency and the journal -----------------------------------------------------


def _operation(ctx: Context, value: Any, *, control_too: bool = False) -> str | None:
    """A known operationId in any spelling, in canonical form (``None`` stays ``None``)."""
    if value is None:
        return None
    name = canonical_name(str(value))
    known = ctx.server.operation_names if control_too else ctx.server.posthog_operations
    if name not in known:
        raise ValidationError(f'"{value}" is not a valid choice.', code="invalid_choice", attr="operation_id")
    return name


def _tenant_filter(ctx: Context) -> dict[str, Any]:
    query = ctx.query
    return {"project_id": query.get("project_id"), "api_key": query.get("api_key")}


def faults_create(ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    fault = ctx.server.faults.add(
        _operation(ctx, body.get("operation_id")),
        body["status"],
        times=body.get("times", 1),
        headers=body.get("headers"),
        body=body.get("body"),
        project_id=body.get("project_id"),
        api_key=body.get("api_key"),
    )
    return Reply(201, fault.to_dict())


def faults_list(ctx: Context) -> Reply:
    faults = ctx.server.faults.active(**_tenant_filter(ctx))
    return Reply(200, {"count": len(faults), "results": [f.to_dict() for f in faults]})


def faults_destroy(ctx: Context) -> Reply:
    ctx.server.faults.clear(**_tenant_filter(ctx))
    return Reply(204)


def latency_create(ctx: Context) -> Reply:
    ctx.check_field_errors()
    body = ctx.body
    rule = ctx.server.latency.set(
        float(body["seconds"]),
        operation=_operation(ctx, body.get("operation_id")),
        project_id=body.get("project_id"),
        api_key=body.get("api_key"),
    )
    return Reply(201, rule.to_dict())


def latency_list(ctx: Context) -> Reply:
    rules = ctx.server.latency.rules(**_tenant_filter(ctx))
    return Reply(200, {"count": len(rules), "results": [r.to_dict() for r in rules]})


def latency_destroy(ctx: Context) -> Reply:
    ctx.server.latency.clear(**_tenant_filter(ctx))
    return Reply(204)


def journal_list(ctx: Context) -> Reply:
    query = ctx.query
    journal = ctx.server.journal
    found = journal.entries(
        operation=_operation(ctx, query.get("operation_id"), control_too=True),
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


def journal_destroy(ctx: Context) -> Reply:
    ctx.server.journal.clear()
    return Reply(204)


HANDLERS = {
    "mock_tenants_create": tenants_create,
    "mock_reset_create": reset,
    "mock_state_retrieve": state,
    "mock_clock_retrieve": clock,
    "mock_clock_advance_create": clock_advance,
    "mock_clock_set_create": clock_set,
    "mock_outcomes_retrieve": outcomes_retrieve,
    "mock_outcomes_create": outcomes_create,
    "mock_outcomes_destroy": outcomes_destroy,
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
