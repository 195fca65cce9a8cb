"""``/batch_exports/``: the same handlers serve project, environment and organization URLs."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mockserver.domain.dates import parse_datetime
from mockserver.domain.models import BatchExport, Team
from mockserver.errors import EmptyBodyError, ValidationError
from mockserver.http.context import Context, Reply
from mockserver.http.pagination import limit_offset, page, page_links
from mockserver.http.serialize import batch_export_json, log_entry_json

__all__ = ["HANDLERS"]


def _export(ctx: Context) -> BatchExport:
    return ctx.server.batch_exports.get(ctx.team_ids, ctx.path_params["id"])


def _write_team(ctx: Context, export: BatchExport | None = None) -> Team:
    """The team a write lands in: the URL's, the export's, or at organization level the
    organization's first project (PostHog has no team there and fails with a 500)."""
    if ctx.team is not None:
        return ctx.team
    teams = ctx.store.teams
    if export is not None:
        return teams[export.team_id]
    assert ctx.organization is not None
    return teams[ctx.organization.team_ids[0]]


def list_exports(ctx: Context) -> Reply:
    limit, offset = limit_offset(ctx.arg("limit"), ctx.arg("offset"))
    count, items = ctx.server.batch_exports.page_for_teams(ctx.team_ids, offset=offset, limit=limit)
    envelope = page_links(count, limit=limit, offset=offset, base_url=ctx.base_url, query_string=ctx.query_string)
    return Reply(200, {**envelope, "results": [batch_export_json(ctx.store, e) for e in items]})


def create(ctx: Context) -> Reply:
    body = ctx.body_object
    export = ctx.server.batch_exports.create(_write_team(ctx), body, ctx.parsed.field_errors)
    return Reply(201, batch_export_json(ctx.store, export))


def retrieve(ctx: Context) -> Reply:
    return Reply(200, batch_export_json(ctx.store, _export(ctx)))


def _update(ctx: Context, *, partial: bool) -> Reply:
    export = _export(ctx)
    body = ctx.body_object
    ctx.server.batch_exports.update(export, _write_team(ctx, export), body, ctx.parsed.field_errors, partial=partial)
    return Reply(200, batch_export_json(ctx.store, export))


def update(ctx: Context) -> Reply:
    return _update(ctx, partial=False)


def partial_update(ctx: Context) -> Reply:
    return _update(ctx, partial=True)


def destroy(ctx: Context) -> Reply:
    ctx.server.batch_exports.delete(_export(ctx))
    return Reply(204)


def pause(ctx: Context) -> Reply:
    ctx.server.batch_exports.pause(_export(ctx))
    return Reply(200, {"paused": True})


def unpause(ctx: Context) -> Reply:
    export = _export(ctx)
    body = ctx.body
    backfill = body.get("backfill", False) if isinstance(body, dict) else False
    ctx.server.batch_exports.unpause(export, backfill)
    return Reply(200, {"paused": False})


def logs(ctx: Context) -> Reply:
    return log_page(ctx, _export(ctx).id)


def log_page(ctx: Context, source_id: str, *, instance_id: str | None = None) -> Reply:
    """``LogEntryMixin.logs``: filter, newest first, SQL ``LIMIT``, then limit/offset paging.

    The same ``limit`` is the query's row cap and the page size, so ``count`` never
    exceeds it (``posthog/api/log_entries.py``).
    """
    query = ctx.query
    limit = int(query.get("limit", 50))
    after = parse_datetime(query["after"]) if query.get("after") else None
    before = parse_datetime(query["before"]) if query.get("before") else None
    levels = {lv.strip().upper() for lv in str(query.get("level", "")).split(",") if lv.strip()}
    search = str(query.get("search", "")).lower()
    wanted_instance = instance_id if instance_id is not None else query.get("instance_id")
    entries = [
        e
        for e in ctx.store.logs_by_source.get(source_id, ())
        if e.team_id in ctx.team_ids
        and (wanted_instance is None or e.instance_id == wanted_instance)
        and (after is None or e.timestamp > after)
        and (before is None or e.timestamp < before)
        and (not levels or e.level.upper() in levels)
        and (not search or search in e.message.lower())
    ]
    entries.sort(key=lambda e: e.timestamp, reverse=True)
    entries = entries[:limit]
    _, offset = limit_offset(None, ctx.arg("offset"))
    items, envelope = page(entries, limit=limit, offset=offset, base_url=ctx.base_url, query_string=ctx.query_string)
    return Reply(200, {**envelope, "results": [log_entry_json(e) for e in items]})


#: Connectivity-check steps per destination type (``destination_tests/``).
_STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    "S3": (
        (
            "Verify S3 bucket",
            "Ensure the configured S3 bucket exists and that we have the required permissions to access it.",
        ),
    ),
    "BigQuery": (
        (
            "Verify BigQuery project",
            "Ensure the configured BigQuery project exists and that we have the required permissions to access it.",
        ),
        (
            "Verify BigQuery dataset",
            "Ensure the configured BigQuery dataset exists and that we have the required permissions to access it.",
        ),
        ("Verify BigQuery table", "Ensure the configured BigQuery table exists or that we can create it."),
    ),
    "Snowflake": (
        ("Verify Snowflake connection", "Ensure we can connect to Snowflake with the configured credentials."),
        (
            "Verify Snowflake warehouse",
            "Ensure the configured warehouse exists and that we have the required permissions to use it.",
        ),
        (
            "Verify Snowflake database",
            "Ensure the configured database exists and that we have the required permissions to use it.",
        ),
        (
            "Verify Snowflake schema",
            "Ensure the configured schema exists and that we have the required permissions to use it.",
        ),
        ("Verify Snowflake table", "Ensure the configured table exists or that we can create it."),
    ),
    "Databricks": (
        ("Verify Databricks connection", "Ensure we can connect to Databricks with the configured integration."),
        (
            "Verify Databricks catalog",
            "Ensure the configured catalog exists and that we have the required permissions to use it.",
        ),
        (
            "Verify Databricks schema",
            "Ensure the configured schema exists and that we have the required permissions to use it.",
        ),
    ),
    "AzureBlob": (
        (
            "Verify Azure Blob container",
            "Ensure the configured container exists and that we have the required permissions to write to it.",
        ),
    ),
}
_STEPS["AwsS3"] = _STEPS["S3Compatible"] = _STEPS["S3"]
#: Read-only: shared by every fake in the process.
TEST_STEPS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(_STEPS)


def test_steps(ctx: Context) -> Reply:
    destination = ctx.arg("destination")
    if not destination:
        raise EmptyBodyError(400)
    steps = TEST_STEPS.get(destination)
    if steps is None:
        raise EmptyBodyError(404)
    return Reply(200, {"steps": [{"name": n, "description": d, "result": None} for n, d in steps]})


def _run_step(ctx: Context, body: dict[str, Any], export: BatchExport | None) -> Reply:
    step = body.get("step", 0)
    if "step" in ctx.parsed.field_errors:
        raise ctx.parsed.field_errors["step"]
    errors = {k: v for k, v in ctx.parsed.field_errors.items() if k != "step"}
    team = _write_team(ctx, export)
    destination = ctx.server.batch_exports.validate_only(team, body, errors, instance=export)
    steps = TEST_STEPS.get(destination.type, ())
    if not isinstance(step, int) or not 0 <= step < len(steps):
        # PostHog indexes its step list and fails with a 500 (IndexError) out of range.
        raise ValidationError(f"Invalid step {step}: this destination has {len(steps)} test steps.", attr="step")
    name, description = steps[step]
    return Reply(200, {"name": name, "description": description, "result": {"status": "Passed", "message": None}})


def run_test_step_new(ctx: Context) -> Reply:
    return _run_step(ctx, ctx.body_object, None)


def run_test_step(ctx: Context) -> Reply:
    export = _export(ctx)
    return _run_step(ctx, ctx.body_object, export)


HANDLERS = {
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
