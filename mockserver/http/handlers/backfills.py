"""``/batch_exports/{batch_export_id}/backfills/``: list, create, retrieve, cancel."""

from __future__ import annotations

from mockserver.domain.backend import Backend
from mockserver.domain.models import Backfill
from mockserver.http.context import ApiHandler, Context, Reply
from mockserver.http.cursor import cursor_page
from mockserver.http.serialize import backfill_json

__all__ = ["HANDLERS"]

#: ``BackfillsCursorPagination.page_size``.
PAGE_SIZE = 50


def _backfill(backend: Backend, ctx: Context) -> Backfill:
    return backend.backfills.get(ctx.team_id, ctx.path_params["batch_export_id"], ctx.path_params["id"])


def _json(backend: Backend, backfill: Backfill) -> dict[str, object]:
    return backfill_json(backfill, backend.backfills.progress(backfill))


def list_backfills(backend: Backend, ctx: Context) -> Reply:
    items = backend.backfills.query(ctx.team_id, ctx.path_params["batch_export_id"], ctx.arg("ordering"))
    page, links = cursor_page(
        items, page_size=PAGE_SIZE, cursor=ctx.arg("cursor"), base_url=ctx.base_url, query_string=ctx.query_string
    )
    return Reply(200, {**links, "results": [_json(backend, b) for b in page]})


def create(backend: Backend, ctx: Context) -> Reply:
    # PostHog's view reads start_at and end_at raw (no serializer): a number gets the date
    # check's own message, not a type error.
    ctx.check_field_errors(ignoring=("start_at", "end_at"))
    assert ctx.team is not None
    backfill = backend.backfills.create(
        ctx.team.id, ctx.path_params["batch_export_id"], ctx.body, ctx.team.feature_flags
    )
    return Reply(201, {"backfill_id": backfill.id})


def retrieve(backend: Backend, ctx: Context) -> Reply:
    return Reply(200, _json(backend, _backfill(backend, ctx)))


def cancel(backend: Backend, ctx: Context) -> Reply:
    backend.backfills.cancel(_backfill(backend, ctx))
    return Reply(200, {"cancelled": True})


HANDLERS: dict[str, ApiHandler] = {
    "batch_exports_backfills_list": list_backfills,
    "batch_exports_backfills_create": create,
    "batch_exports_backfills_retrieve": retrieve,
    "batch_exports_backfills_cancel_create": cancel,
}
