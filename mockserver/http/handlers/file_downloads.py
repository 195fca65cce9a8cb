"""``/file_download_batch_exports/``: list, create, retrieve, cancel, logs, download; and
``/_mock/files/{file_id}/``, where a download redirects to.

PostHog redirects a download to a pre-signed S3 URL. The fake serves the file itself and
redirects to an absolute URL on the host the request came to, so a client that follows
redirects works whatever port the fake listens on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mockserver.domain.models import Run
from mockserver.errors import NotFound
from mockserver.http.context import Context, Reply
from mockserver.http.handlers.batch_exports import log_page
from mockserver.http.pagination import limit_offset, page

__all__ = ["HANDLERS"]


def _run(ctx: Context) -> Run:
    return ctx.server.backend.file_downloads.get(ctx.team_id, ctx.path_params["id"])


def list_downloads(ctx: Context) -> Reply:
    runs = ctx.server.backend.file_downloads.query(ctx.team_id)
    limit, offset = limit_offset(ctx.arg("limit"), ctx.arg("offset"))
    items, envelope = page(runs, limit=limit, offset=offset, base_url=ctx.base_url, query_string=ctx.query_string)
    return Reply(200, {**envelope, "results": [{"id": r.id, "status": r.status} for r in items]})


def create(ctx: Context) -> Reply:
    ctx.check_field_errors()
    run = ctx.server.backend.file_downloads.create(ctx.team_id, ctx.body)
    return Reply(202, {"id": run.id})


def retrieve(ctx: Context) -> Reply:
    """``{"status"}``, plus ``files`` when Completed and ``error`` whenever one was recorded."""
    downloads = ctx.server.backend.file_downloads
    run = _run(ctx)
    status = downloads.visible_status(run)
    body: dict[str, Any] = {"status": status}
    if status == "Completed":
        body["files"] = [f.id for f in downloads.files(run)]
    if run.latest_error is not None:
        body["error"] = run.latest_error
    return Reply(200, body)


def cancel(ctx: Context) -> Reply:
    run = _run(ctx)
    ctx.server.backend.file_downloads.cancel(run)
    return Reply(200, {"status": run.status})


def logs(ctx: Context) -> Reply:
    """The run's worker lines. PostHog filters on ``log_source_id = <run id>`` while its
    workers log under the on-demand export, so it probably answers an empty page."""
    run = _run(ctx)
    return log_page(ctx, run.batch_export_on_demand_id or run.id, instance_id=run.id)


def download(ctx: Context) -> Reply:
    part = ctx.path_params.get("part")
    if part is not None and "." in part:
        # PostHog's route matches ``download/(?P<part>[^/.]+)``: a dot matches no route at all.
        raise NotFound("Endpoint not found.")
    file = ctx.server.backend.file_downloads.resolve_download(_run(ctx), part)
    url = urlsplit(ctx.base_url)
    location = f"{url.scheme}://{url.netloc}/_mock/files/{file.id}/"
    return Reply(302, None, {"Location": location, "Cache-Control": "no-store"})


def serve_file(ctx: Context) -> Reply:
    """The bytes behind a download redirect (404 unknown, 410 expired)."""
    file = ctx.server.backend.file_downloads.served_file(ctx.path_params["file_id"])
    headers = {
        "Content-Type": file.content_type,
        "Content-Disposition": f'attachment; filename="{file.filename}"',
    }
    return Reply(200, file.content, headers)


HANDLERS = {
    "file_download_batch_exports_list": list_downloads,
    "file_download_batch_exports_create": create,
    "file_download_batch_exports_retrieve": retrieve,
    "file_download_batch_exports_cancel_create": cancel,
    "file_download_batch_exports_logs_retrieve": logs,
    "file_download_batch_exports_download_retrieve": download,
    "file_download_batch_exports_download_part_retrieve": download,
    "mock_files_retrieve": serve_file,
}
