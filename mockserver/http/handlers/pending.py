"""Operations the spec describes that this version does not serve yet: a documented 501."""

from __future__ import annotations

from mockserver.errors import NotImplementedYet
from mockserver.http.context import Context, Reply

__all__ = ["HANDLERS"]


def not_implemented(ctx: Context) -> Reply:
    raise NotImplementedYet()


_PENDING = (
    "batch_exports_runs_list", "batch_exports_runs_retrieve", "batch_exports_runs_cancel_create",
    "batch_exports_runs_retry_create", "batch_exports_runs_logs_retrieve",
    "batch_exports_backfills_list", "batch_exports_backfills_create", "batch_exports_backfills_retrieve",
    "batch_exports_backfills_cancel_create",
    "file_download_batch_exports_list", "file_download_batch_exports_create",
    "file_download_batch_exports_retrieve", "file_download_batch_exports_cancel_create",
    "file_download_batch_exports_logs_retrieve", "file_download_batch_exports_download_retrieve",
    "file_download_batch_exports_download_part_retrieve",
)  # fmt: skip

HANDLERS = dict.fromkeys(_PENDING, not_implemented)
