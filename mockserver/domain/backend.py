"""All the rules over one store, wired together: the one object the HTTP layer talks to."""

from __future__ import annotations

from mockserver.domain.backfills import Backfills
from mockserver.domain.batch_exports import BatchExports
from mockserver.domain.engine import Engine
from mockserver.domain.file_downloads import FileDownloads
from mockserver.domain.logs import Logs
from mockserver.domain.runs import Runs
from mockserver.domain.store import Store

__all__ = ["Backend"]


class Backend:
    """Batch exports, the scheduler, runs, backfills, file downloads and logs over one :class:`Store`.

    These services are what the HTTP layer's handlers get: they hold every rule, and the
    handlers only translate requests into calls and results into JSON.

    >>> backend = Backend(Store())
    >>> backend.engine.catch_up()  # nothing is due in an empty store
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = Engine(store)
        self.batch_exports = BatchExports(store)
        self.backfills = Backfills(store, self.engine)
        self.runs = Runs(store, self.engine, self.backfills)
        self.logs = Logs(store)
        self.file_downloads = FileDownloads(store, self.engine)
        # A completed file-download run gets its files written as it completes.
        self.engine.on_run_finished.append(self.file_downloads.run_finished)
        self.batch_exports.listeners.append(self.engine.export_changed)
        self.batch_exports.start_backfill = self.backfills.start
