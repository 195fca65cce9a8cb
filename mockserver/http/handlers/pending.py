"""Operations the spec describes that this version does not serve yet: a documented 501."""

from __future__ import annotations

from mockserver.errors import NotImplementedYet
from mockserver.http.context import Context, Reply

__all__ = ["HANDLERS"]


def not_implemented(ctx: Context) -> Reply:
    raise NotImplementedYet()


_PENDING = (
    "file_download_batch_exports_list", "file_download_batch_exports_create",
    "file_download_batch_exports_retrieve", "file_download_batch_exports_cancel_create",
    "file_download_batch_exports_logs_retrieve", "file_download_batch_exports_download_retrieve",
    "file_download_batch_exports_download_part_retrieve",
)  # fmt: skip

HANDLERS = dict.fromkeys(_PENDING, not_implemented)
