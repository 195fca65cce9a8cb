"""The ``/_mock/`` control plane: tenants, reset, state and the clock over HTTP.

Everything here is also a plain Python call on the store (``server.store.create_tenant()``,
``server.store.reset()``, ``server.store.clock.advance(…)``); these handlers only translate.
"""

from __future__ import annotations

from mockserver.clock import ClockError
from mockserver.domain.dates import format_datetime, parse_datetime
from mockserver.domain.store import ALL_SCOPES
from mockserver.errors import ValidationError
from mockserver.http.context import Context, Reply

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
    now = ctx.store.clock.advance(float(ctx.body["seconds"]))
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


HANDLERS = {
    "mock_tenants_create": tenants_create,
    "mock_reset_create": reset,
    "mock_state_retrieve": state,
    "mock_clock_retrieve": clock,
    "mock_clock_advance_create": clock_advance,
    "mock_clock_set_create": clock_set,
}
