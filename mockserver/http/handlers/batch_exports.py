"""``/batch_exports/``: the same handlers serve project, environment and organization URLs."""

from __future__ import annotations

from typing import Any

from mockserver.domain import connectivity
from mockserver.domain.backend import Backend
from mockserver.domain.dates import parse_datetime
from mockserver.domain.logs import DEFAULT_LIMIT, LogQuery
from mockserver.domain.models import BatchExport
from mockserver.errors import EmptyBodyError, ValidationError
from mockserver.http.context import ApiHandler, Context, Reply
from mockserver.http.pagination import limit_offset, page, page_links
from mockserver.http.serialize import batch_export_json, log_entry_json

__all__ = ["HANDLERS", "log_page"]


def _export(backend: Backend, ctx: Context) -> BatchExport:
    return backend.batch_exports.get(ctx.team_ids, ctx.path_params["id"])


def _json(backend: Backend, export: BatchExport) -> dict[str, Any]:
    profile = backend.batch_exports.profile_of(export)
    return batch_export_json(export, backend.batch_exports.latest_runs(export), profile=profile)


def list_exports(backend: Backend, ctx: Context) -> Reply:
    limit, offset = limit_offset(ctx.arg("limit"), ctx.arg("offset"))
    count, items = backend.batch_exports.page_for_teams(ctx.team_ids, offset=offset, limit=limit)
    envelope = page_links(count, limit=limit, offset=offset, base_url=ctx.base_url, query_string=ctx.query_string)
    return Reply(200, {**envelope, "results": [_json(backend, e) for e in items]})


def create(backend: Backend, ctx: Context) -> Reply:
    body = ctx.body_object
    exports = backend.batch_exports
    team = exports.home_team(ctx.team, ctx.organization, None)
    export = exports.create(team, body, ctx.parsed.field_errors, team_scoped=ctx.team is not None)
    return Reply(201, _json(backend, export))


def retrieve(backend: Backend, ctx: Context) -> Reply:
    return Reply(200, _json(backend, _export(backend, ctx)))


def _update(backend: Backend, ctx: Context, *, partial: bool) -> Reply:
    exports = backend.batch_exports
    export = _export(backend, ctx)
    body = ctx.body_object
    team = exports.home_team(ctx.team, ctx.organization, export)
    exports.update(export, team, body, ctx.parsed.field_errors, partial=partial, team_scoped=ctx.team is not None)
    return Reply(200, _json(backend, export))


def update(backend: Backend, ctx: Context) -> Reply:
    return _update(backend, ctx, partial=False)


def partial_update(backend: Backend, ctx: Context) -> Reply:
    return _update(backend, ctx, partial=True)


def destroy(backend: Backend, ctx: Context) -> Reply:
    backend.batch_exports.delete(_export(backend, ctx))
    return Reply(204)


def pause(backend: Backend, ctx: Context) -> Reply:
    backend.batch_exports.pause(_export(backend, ctx))
    return Reply(200, {"paused": True})


def unpause(backend: Backend, ctx: Context) -> Reply:
    export = _export(backend, ctx)
    body = ctx.body
    backfill = body.get("backfill", False) if isinstance(body, dict) else False
    if backend.batch_exports.profile_of(export) == "current":
        # Today's PostHog reads it with a BooleanField: "false" is false (see "Profiles" in
        # docs/fidelity.md).
        backfill = _drf_boolean(backfill, attr="backfill")
    backend.batch_exports.unpause(export, backfill)
    return Reply(200, {"paused": False})


_TRUE = frozenset({"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1", 1})
_FALSE = frozenset({"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0", 0})


def _drf_boolean(value: Any, *, attr: str) -> bool:
    """DRF's ``BooleanField.to_internal_value``."""
    if isinstance(value, (str, int, bool)) and not isinstance(value, float):
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    raise ValidationError("Must be a valid boolean.", code="invalid", attr=attr)


def logs(backend: Backend, ctx: Context) -> Reply:
    return log_page(backend, ctx, _export(backend, ctx).id)


def log_page(backend: Backend, ctx: Context, source_id: str, *, instance_id: str | None = None) -> Reply:
    """A page of a source's log lines (``LogEntryMixin.logs``); the filtering is the domain's.

    ``instance_id``: the run the URL names; without one, the ``instance_id`` query value.
    """
    query = ctx.query
    level, search, asked_instance = (_char_param(query, name) for name in ("level", "search", "instance_id"))
    log_query = LogQuery(
        instance_id=instance_id if instance_id is not None else asked_instance,
        after=parse_datetime(query["after"]) if query.get("after") else None,
        before=parse_datetime(query["before"]) if query.get("before") else None,
        # The whole value is trimmed (DRF's CharField), its comma-separated parts are not.
        levels=frozenset(part.upper() for part in level.split(",")) if level else frozenset(),
        search=search or "",
        limit=int(query.get("limit", DEFAULT_LIMIT)),
    )
    entries = backend.logs.query(ctx.team_ids, source_id, log_query)
    # The rows are capped at ``limit`` (50 by default) in SQL, but DRF's paginator sizes
    # the page from the request's own ``limit`` alone, else PostHog's page size (100): the
    # links of a request without one say ``limit=100``.
    page_size, offset = limit_offset(ctx.arg("limit"), ctx.arg("offset"))
    items, envelope = page(
        entries, limit=page_size, offset=offset, base_url=ctx.base_url, query_string=ctx.query_string
    )
    return Reply(200, {**envelope, "results": [log_entry_json(e) for e in items]})


def _char_param(query: dict[str, Any], name: str) -> str | None:
    """A ``CharField`` query parameter of ``LogEntryRequestSerializer``: trimmed, and refused
    when nothing is left (an empty one counts as not sent, as DRF reads query strings)."""
    value = query.get(name)
    if value is None:
        return None
    trimmed = str(value).strip()
    if not trimmed:
        raise ValidationError("This field may not be blank.", code="blank", attr=name)
    return trimmed


def test_steps(_backend: Backend, ctx: Context) -> Reply:
    """``GET …/batch_exports/test/?destination=…``: the checks a destination type has.

    PostHog answers a missing ``destination`` with an empty 400 and an unknown one with
    an empty 404.
    """
    destination = ctx.arg("destination")
    if not destination:
        raise EmptyBodyError(400)
    steps = connectivity.steps_for(destination)
    if steps is None:
        raise EmptyBodyError(404)
    return Reply(200, {"steps": [{"name": n, "description": d, "result": None} for n, d in steps]})


def _run_step(backend: Backend, ctx: Context, export: BatchExport | None) -> Reply:
    exports = backend.batch_exports
    team = exports.home_team(ctx.team, ctx.organization, export)
    name, description = exports.run_test_step(
        team, ctx.body_object, ctx.parsed.field_errors, instance=export, team_scoped=ctx.team is not None
    )
    return Reply(200, {"name": name, "description": description, "result": {"status": "Passed", "message": None}})


def run_test_step_new(backend: Backend, ctx: Context) -> Reply:
    return _run_step(backend, ctx, None)


def run_test_step(backend: Backend, ctx: Context) -> Reply:
    return _run_step(backend, ctx, _export(backend, ctx))


HANDLERS: dict[str, ApiHandler] = {
    "batch_exports_list": list_exports,
    "batch_exports_create": create,
    "batch_exports_retrieve": retrieve,
    "batch_exports_update": update,
    "batch_exports_partial_update": partial_update,
    "batch_exports_destroy": destroy,
    "batch_exports_pause_create": pause,
    "batch_exports_unpause_create": unpause,
    "batch_exports_logs_retrieve": logs,
    "batch_exports_test_retrieve": test_steps,
    "batch_exports_run_test_step_new_create": run_test_step_new,
    "batch_exports_run_test_step_create": run_test_step,
}
