"""``/batch_exports/{batch_export_id}/backfills/``: list, create, retrieve, cancel."""

from __future__ import annotations

from mockserver.domain.models import Backfill
from mockserver.http.context import Context, Reply
from mockserver.http.cursor import cursor_page
from mockserver.http.serialize import backfill_json

__all__ = ["HANDLERS"]

#: ``BackfillsCursorPagination.page_size``.
PAGE_SIZE = 50


def _backfill(ctx: Context) -> Backfill:
    return ctx.server.backend.backfills.get(ctx.team_id, ctx.path_params["batch_export_id"], ctx.path_params["id"])


def _json(ctx: Context, backfill: Backfill) -> dict[str, object]:
    return backfill_json(backfill, ctx.server.backend.backfills.progress(backfill))


def list_backfills(ctx: Context) -> Reply:
    items = ctx.server.backend.backfills.query(ctx.team_id, ctx.path_params["batch_export_id"], ctx.arg("ordering"))
    page, links = cursor_page(
        items, page_size=PAGE_SIZE, cursor=ctx.arg("cursor"), base_url=ctx.base_url, query_string=ctx.query_string
    )
    return Reply(200, {**links, "results": [_json(ctx, b) for b in page]})


def create(ctx: Context) -> Reply:
    ctx.check_field_errors()
    assert ctx.team is not None
    backfill = ctx.server.backend.backfills.create(
        ctx.team.id, ctx.path_params["batch_export_id"], ctx.body, ctx.team.feature_flags
    )
    return Reply(201, {"backfill_id": backfill.id})


def retrieve(ctx: Context) -> Reply:
    return Reply(200, _json(ctx, _backfill(ctx)))


def cancel(ctx: Context) -> Reply:
    ctx.server.backend.backfills.cancel(_backfill(ctx))
    return Reply(200, {"cancelled": True})


HANDLERS = {
    "batch_exports_backfills_list": list_backfills,
    "batch_exports_backfills_create": create,
    "batch_exports_backfills_retrieve": retrieve,
    "batch_exports_backfills_cancel_create": cancel,
}
