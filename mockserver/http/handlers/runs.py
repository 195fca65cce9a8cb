"""``/batch_exports/{batch_export_id}/runs/``: list, retrieve, cancel, retry, logs."""

from __future__ import annotations

from mockserver.domain.backend import Backend
from mockserver.domain.models import Run
from mockserver.domain.runs import RunQuery
from mockserver.http.context import ApiHandler, Context, Reply
from mockserver.http.cursor import cursor_page
from mockserver.http.handlers.batch_exports import log_page
from mockserver.http.serialize import run_json

__all__ = ["HANDLERS"]

#: ``RunsCursorPagination.page_size``.
PAGE_SIZE = 100


def _query(ctx: Context) -> RunQuery:
    query = ctx.query
    statuses = query.get("status") or ()
    return RunQuery(
        ordering=ctx.arg("ordering") or "-created_at",
        statuses=tuple(statuses),
        after=ctx.arg("after"),
        before=ctx.arg("before"),
        start=ctx.arg("start"),
        end=ctx.arg("end"),
    )


def _run(backend: Backend, ctx: Context) -> Run:
    return backend.runs.get(ctx.team_id, ctx.path_params["batch_export_id"], ctx.path_params["id"], _query(ctx))


def list_runs(backend: Backend, ctx: Context) -> Reply:
    runs = backend.runs.query(ctx.team_id, ctx.path_params["batch_export_id"], _query(ctx))
    items, links = cursor_page(
        runs, page_size=PAGE_SIZE, cursor=ctx.arg("cursor"), base_url=ctx.base_url, query_string=ctx.query_string
    )
    return Reply(200, {**links, "results": [run_json(r) for r in items]})


def retrieve(backend: Backend, ctx: Context) -> Reply:
    return Reply(200, run_json(_run(backend, ctx)))


def cancel(backend: Backend, ctx: Context) -> Reply:
    backend.runs.cancel(_run(backend, ctx))
    return Reply(200, {"cancelled": True})


def retry(backend: Backend, ctx: Context) -> Reply:
    return Reply(201, {"backfill_id": backend.runs.retry(_run(backend, ctx))})


def logs(backend: Backend, ctx: Context) -> Reply:
    """The run's log lines. PostHog's own route fails with a 500 (a missing ``run_id``
    lookup); the fake returns what the route promises: the export's log lines of this run."""
    run = _run(backend, ctx)
    return log_page(backend, ctx, run.batch_export_id or run.id, instance_id=run.id)


HANDLERS: dict[str, ApiHandler] = {
    "batch_exports_runs_list": list_runs,
    "batch_exports_runs_retrieve": retrieve,
    "batch_exports_runs_cancel_create": cancel,
    "batch_exports_runs_retry_create": retry,
    "batch_exports_runs_logs_retrieve": logs,
}
