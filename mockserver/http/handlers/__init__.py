"""Handlers, one per canonical operation name (the operationId without its
``environments_`` prefix or ``_2`` suffix: the three URL spellings share one handler)."""

from __future__ import annotations

from collections.abc import Callable

from mockserver.http.context import Context, Reply
from mockserver.http.handlers import backfills, batch_exports, control, file_downloads, runs

__all__ = ["HANDLERS"]

HANDLERS: dict[str, Callable[[Context], Reply]] = {
    **batch_exports.HANDLERS,
    **runs.HANDLERS,
    **backfills.HANDLERS,
    **control.HANDLERS,
    **file_downloads.HANDLERS,
}
