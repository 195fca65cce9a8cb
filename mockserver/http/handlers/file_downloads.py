"""``/file_download_batch_exports/``: list, create, retrieve, cancel, logs, download; and
``/_mock/files/{file_id}/``, where a download redirects to.

PostHog redirects a download to a pre-signed S3 URL. The fake serves the file itself and
redirects to an absolute URL on the host the request came to, so a client that follows
redirects works whatever port the fake listens on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mockserver.domain.backend import Backend
from mockserver.domain.models import Run
from mockserver.errors import NotFound
from mockserver.http.context import ApiHandler, Context, Reply
from mockserver.http.handlers.batch_exports import log_page
from mockserver.http.pagination import limit_offset, page

__all__ = ["HANDLERS"]


def _run(backend: Backend, ctx: Context) -> Run:
    return backend.file_downloads.get(ctx.team_id, ctx.path_params["id"])


def list_downloads(backend: Backend, ctx: Context) -> Reply:
    runs = backend.file_downloads.query(ctx.team_id)
    limit, offset = limit_offset(ctx.arg("limit"), ctx.arg("offset"))
    items, envelope = page(runs, limit=limit, offset=offset, base_url=ctx.base_url, query_string=ctx.query_string)
    return Reply(200, {**envelope, "results": [{"id": r.id, "status": r.status} for r in items]})


def create(backend: Backend, ctx: Context) -> Reply:
    ctx.check_field_errors()
    downloads = backend.file_downloads
    run = downloads.create(ctx.team_id, ctx.body)

    def prepared() -> Reply:
        downloads.prepare(run.id)  # the rows are made now, outside the store's lock
        return Reply(202, {"id": run.id})

    return Reply.deferred(prepared)


def retrieve(backend: Backend, ctx: Context) -> Reply:
    """``{"status"}``, plus ``files`` when Completed and ``error`` whenever one was recorded."""
    downloads = backend.file_downloads
    run = _run(backend, ctx)
    status = downloads.visible_status(run)
    body: dict[str, Any] = {"status": status}
    if status == "Completed":
        body["files"] = [f.id for f in downloads.files(run)]
    if run.latest_error is not None:
        body["error"] = run.latest_error
    return Reply(200, body)


def cancel(backend: Backend, ctx: Context) -> Reply:
    run = _run(backend, ctx)
    backend.file_downloads.cancel(run)
    return Reply(200, {"status": run.status})


def logs(backend: Backend, ctx: Context) -> Reply:
    """The run's worker lines. PostHog filters on ``log_source_id = <run id>`` while its
    workers log under the on-demand export, so it probably answers an empty page."""
    run = _run(backend, ctx)
    return log_page(backend, ctx, run.batch_export_on_demand_id or run.id, instance_id=run.id)


def download(backend: Backend, ctx: Context) -> Reply:
    part = ctx.path_params.get("part")
    if part is not None and "." in part:
        # PostHog's route matches ``download/(?P<part>[^/.]+)``: a dot matches no route at all.
        raise NotFound("Endpoint not found.")
    file = backend.file_downloads.resolve_download(_run(backend, ctx), part)
    url = urlsplit(ctx.base_url)
    location = f"{url.scheme}://{url.netloc}/_mock/files/{file.id}/"
    return Reply(302, None, {"Location": location, "Cache-Control": "no-store"})


def serve_file(backend: Backend, ctx: Context) -> Reply:
    """The bytes behind a download redirect (404 unknown, 410 expired)."""
    file = backend.file_downloads.served_file(ctx.path_params["file_id"])
    headers = {
        "Content-Type": file.content_type,
        "Content-Disposition": f'attachment; filename="{file.filename}"',
    }
    return Reply(200, file.content, headers)


HANDLERS: dict[str, ApiHandler] = {
    "file_download_batch_exports_list": list_downloads,
    "file_download_batch_exports_create": create,
    "file_download_batch_exports_retrieve": retrieve,
    "file_download_batch_exports_cancel_create": cancel,
    "file_download_batch_exports_logs_retrieve": logs,
    "file_download_batch_exports_download_retrieve": download,
    "file_download_batch_exports_download_part_retrieve": download,
    "mock_files_retrieve": serve_file,
}
