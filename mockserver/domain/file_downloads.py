"""File downloads (PostHog's "batch exports on demand"): one-off exports to files.

PostHog models a file download as a ``BatchExportRun`` whose parent is a
``BatchExportOnDemand`` with a ``FileDownload`` destination; the API's ``{id}`` is the
**run** id. The fake keeps the same shape:

* :class:`OnDemandExport`: the parent (model, file options, include/exclude, and the
  seed its rows are drawn from);
* a :class:`~mockserver.domain.models.Run` with ``batch_export_on_demand_id`` set, created
  ``Starting`` and progressed by the :class:`~mockserver.domain.engine.Engine` like any
  run (``Running`` 30 s later, ``Completed`` 150 s after that by default);
* :class:`DownloadFile`: the files written when the run completes (PostHog's
  ``BatchExportFileDownload``), with their bytes, listed in ``key`` order, downloadable
  until ``expires_at``.

How a run ends is decided at create: the engine takes the next planned
:class:`~mockserver.domain.lifecycle.Outcome` of the on-demand export, and the fake
always plans one, so the engine's log line and ``records_completed`` match the rows
actually written. A test can choose the ending with :meth:`FileDownloads.plan_outcomes`
(the team's next file downloads) or :meth:`FileDownloads.plan_run_outcome` (a run that
has not finished yet).

>>> from datetime import timedelta
>>> from mockserver.domain.engine import Engine
>>> from mockserver.domain.store import Store
>>> store = Store(seed=3)
>>> team = store.teams[store.create_tenant().project_id]
>>> downloads = FileDownloads(store, Engine(store))
>>> end = store.clock.now()
>>> run = downloads.create(team.id, {"file": {"format": "JSONLines"}, "model": "events",
...     "data_interval_start": (end - timedelta(hours=1)).isoformat(), "data_interval_end": end.isoformat()})
>>> run.status
'Starting'
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mockserver.domain import outcomes
from mockserver.domain.datagen import (
    DataSpec,
    EncodedFile,
    content_type,
    default_row_count,
    encode_files,
    encoding_problem,
    file_extension,
    generate_rows,
)
from mockserver.domain.dates import parse_datetime
from mockserver.domain.destinations import SUPPORTED_COMPRESSIONS
from mockserver.domain.engine import Engine
from mockserver.domain.lifecycle import ACTIVE, Outcome
from mockserver.domain.models import Destination, DownloadFile, OnDemandExport, Run
from mockserver.domain.store import Store
from mockserver.errors import FileExpired, NotFound, TooManyConcurrentFileDownloads, ValidationError

__all__ = ["FILE_DOWNLOAD_MAX_RANGE", "FileDownloads"]

#: ``FILE_DOWNLOAD_MAX_RANGE``: the longest interval one file download may cover.
FILE_DOWNLOAD_MAX_RANGE = timedelta(weeks=1)
#: ``Run.status`` values ``download`` refuses with "has failed".
_FAILED = frozenset({"Terminated", "TimedOut", "Failed", "FailedRetryable", "FailedBilling"})
#: Planned ``records_completed`` above this is clamped: the rows are really generated.
MAX_PLANNED_ROWS = 100_000


class FileDownloads:
    """Every rule of ``FileDownloadBatchExportOnDemandViewSet`` over one store."""

    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine
        #: Files made by :meth:`prepare`, by what they were made from, until used.
        self._prepared: dict[_Recipe, tuple[int, list[EncodedFile]]] = {}
        engine.event_handlers[_EXPIRE] = self._expire

    # -- create ----------------------------------------------------------------------

    def create(self, team_id: int, data: Mapping[str, Any]) -> Run:
        """Validate like ``FileDownloadBatchExportOnDemandSerializer``, then start a run.

        ``data`` has passed the spec's structural checks (required fields, enums,
        datetime formats); what remains is the serializer's ``validate()``, the
        concurrency limit, and what this fake can encode.
        """
        store = self.store
        start = _datetime(data["data_interval_start"])
        end = _datetime(data["data_interval_end"])
        if start > end:
            raise ValidationError("'data_interval_end' must occur after 'data_interval_start'")
        if end - start > FILE_DOWNLOAD_MAX_RANGE:
            raise ValidationError("data interval range too big")
        now = store.clock.now()
        if end > now:
            # DRF parsed the value into UTC, so the message shows it with "+00:00".
            raise ValidationError(f"The provided 'data_interval_end' ({end.isoformat()}) is in the future")
        limit = store.limits.concurrent_file_downloads
        if sum(1 for run in self.query(team_id) if run.status in ACTIVE) >= limit:
            raise TooManyConcurrentFileDownloads()
        options = dict(data["file"])
        file_format = options.get("format") or "Parquet"
        compression = options.get("compression")
        problem = encoding_problem(file_format, compression)
        if problem is not None:
            raise ValidationError(problem, attr="file__format" if file_format == "Parquet" else "file__compression")
        model = str(data["model"])
        config: dict[str, Any] = {
            "format": file_format,
            "compression": compression,
            "max_size_mb": options.get("max_size_mb"),
        }
        # PostHog keeps include/exclude for the events model only and drops them silently otherwise.
        if model == "events" and data.get("include") is not None:
            config["include_events"] = list(data["include"])
        if model == "events" and data.get("exclude") is not None:
            config["exclude_events"] = list(data["exclude"])
        export = OnDemandExport(
            id=str(store.ids.uuidt(now)),
            team_id=team_id,
            model=model,
            destination=Destination("FileDownload", config),
            created_at=now,
            data_seed=store.ids.random.getrandbits(64),
        )
        run = Run(
            id=str(store.ids.uuidt(now)),
            team_id=team_id,
            status="Starting",
            data_interval_start=start,
            data_interval_end=end,
            created_at=now,
            last_updated_at=now,
            batch_export_on_demand_id=export.id,
        )
        store.add_on_demand_export(export, run)
        outcomes.replace_outcomes(store, export.id, [self._ending(export, run)])
        self.engine.add_run(run, now)
        return run

    def _ending(self, export: OnDemandExport, run: Run) -> Outcome:
        """The outcome the engine will apply: the team's next planned one, or Completed.

        A Completed outcome gets its ``records_completed`` filled in with the rows that
        will be written, so the engine's bookkeeping agrees with the files.
        """
        outcome = outcomes.next_file_download_outcome(self.store, export.team_id) or Outcome("Completed")
        if outcome.status != "Completed":
            return outcome
        # JSONLines cannot carry zstd/lz4/snappy: PostHog's API accepts the request and
        # the workflow then fails, as the S3 destination's check would.
        allowed = SUPPORTED_COMPRESSIONS[export.file_format]
        if export.compression and export.compression not in allowed:
            return Outcome(
                "Failed",
                latest_error=(
                    f"UnsupportedCompressionError: Compression {export.compression} is not supported for file "
                    f"format {export.file_format}. Supported compressions are {allowed!r}"
                ),
            )
        rows = outcome.records_completed
        if rows is None:
            rows = default_row_count(self._data_spec(export, run))
        return Outcome("Completed", outcome.latest_error, min(rows, MAX_PLANNED_ROWS))

    # -- planning (Python API for tests) ---------------------------------------------

    def plan_outcomes(self, team_id: int, planned: Iterable[Outcome]) -> list[Outcome]:
        """The team's next file downloads end as ``planned``, in order; returns the whole queue.

        A ``Completed`` outcome with ``records_completed`` writes exactly that many rows
        (``0``: the run completes with ``files: []``).
        """
        return outcomes.plan_file_downloads(self.store, team_id, planned)

    def plan_run_outcome(self, run_id: str, outcome: Outcome) -> None:
        """Replace how a file-download run that has not finished yet will end."""
        with self.store.lock:
            run = self.store.runs.get(run_id)
            if run is None or run.batch_export_on_demand_id is None:
                raise KeyError(run_id)
            export = self.store.on_demand_exports[run.batch_export_on_demand_id]
            if outcome.status == "Completed" and outcome.records_completed is None:
                outcome = Outcome("Completed", outcome.latest_error, default_row_count(self._data_spec(export, run)))
            outcomes.replace_outcomes(self.store, export.id, [outcome])

    # -- reads -----------------------------------------------------------------------

    def query(self, team_id: int) -> list[Run]:
        """The team's file-download runs, newest first (ties: the later create first)."""
        store = self.store
        runs = [store.runs[i] for i in reversed(store.file_downloads_by_team.get(team_id, ()))]
        runs = [r for r in runs if not store.on_demand_exports[r.batch_export_on_demand_id or ""].deleted]
        runs.sort(key=lambda r: r.created_at, reverse=True)  # stable: ties keep newest-created first
        return runs

    def get(self, team_id: int, run_id: str) -> Run:
        """One file-download run of the team; anything else (another team's run, a
        scheduled export's run, a malformed id) is a 404 ``Not found.``"""
        run = self.store.runs.get(run_id)
        export = self.store.on_demand_exports.get(run.batch_export_on_demand_id or "") if run else None
        if run is None or export is None or export.team_id != team_id or export.deleted:
            raise NotFound()
        return run

    def files(self, run: Run) -> list[DownloadFile]:
        """The run's files in ``key`` order."""
        store = self.store
        files = [store.download_files[i] for i in store.files_by_run.get(run.id, ())]
        return sorted(files, key=lambda f: f.key)

    def visible_status(self, run: Run) -> str:
        """``retrieve``'s status: a Completed run with records but no file rows yet is
        still "Running" (PostHog writes the file rows just after completing the run)."""
        if run.status == "Completed" and not self.files(run) and (run.records_completed or 0) > 0:
            return "Running"
        return run.status

    # -- actions ---------------------------------------------------------------------

    def cancel(self, run: Run) -> None:
        self.engine.request_cancel(run)

    def resolve_download(self, run: Run, part: str | None) -> DownloadFile:
        """``download``: refuse unfinished runs, find the file by id or index, check expiry."""
        if run.status in ACTIVE:
            raise ValidationError("Batch export run is still in progress")
        if run.status in _FAILED:
            raise ValidationError("Batch export run has failed")
        if run.status == "Cancelled":
            raise ValidationError("Batch export run was cancelled")
        file = self._file_for_part(run, part)
        if file.expires_at is not None and file.expires_at < self.store.clock.now():
            raise ValidationError("This file download has expired")
        return file

    def _file_for_part(self, run: Run, part: str | None) -> DownloadFile:
        """``_get_file_download_for_run``: a UUID names a file; anything else is an index
        parsed with Python's ``int()`` (so ``" 1"`` and ``"-1"`` are indexes too)."""
        files = self.files(run)
        try:
            file_id = uuid.UUID(part) if part is not None else None
        except ValueError:
            file_id = None
        if file_id is not None:
            for file in files:
                if file.id == str(file_id):
                    return file
            raise NotFound()
        try:
            index = int(part) if part is not None else 0
        except ValueError:
            raise ValidationError(f"Invalid file id or index: '{part}'") from None
        if index < 0 or index >= len(files):
            raise NotFound(f"No files with index {index}")
        return files[index]

    def served_file(self, file_id: str) -> DownloadFile:
        """The file behind a download URL: 404 if unknown, 410 once expired."""
        file = self.store.download_files.get(file_id)
        if file is None:
            raise NotFound()
        if file.expires_at is not None and file.expires_at < self.store.clock.now():
            raise FileExpired()
        return file

    # -- the workflow's side effects -------------------------------------------------

    def run_finished(self, run: Run, at: datetime) -> None:
        """Engine listener: write the files of a file-download run that completed."""
        export = self.store.on_demand_exports.get(run.batch_export_on_demand_id or "")
        if export is None or run.status != "Completed":
            return
        store = self.store
        recipe = self._recipe(export, run, run.records_completed or 0)
        made = self._prepared.pop(recipe, None)
        row_count, encoded = made if made is not None else _make(recipe)  # not prepared: made here
        expires_at = at + timedelta(seconds=store.limits.file_download_expiration_seconds)
        base = self._key_base(export, run)
        numbered = bool(export.max_size_mb and export.max_size_mb > 0)
        extension = file_extension(export.file_format, export.compression)
        media_type = content_type(export.file_format, export.compression)
        for number, item in enumerate(encoded):
            key = f"{base}-{number}.{extension}" if numbered else f"{base}.{extension}"
            file = DownloadFile(
                id=str(store.ids.uuidt(at)),
                team_id=run.team_id,
                run_id=run.id,
                key=key,
                content=item.content,
                content_type=media_type,
                records=item.records,
                created_at=at,
                expires_at=expires_at,
            )
            store.add_download_file(file)
        run.records_completed = run.records_total_count = row_count
        run.bytes_exported = sum(len(item.content) for item in encoded)
        files = "file" if len(encoded) == 1 else "files"
        self.engine.log(run, at, "INFO", f"Exported {row_count} records to {len(encoded)} {files}")
        # Just after the last instant it may be downloaded (``expires_at`` itself still may).
        self.engine.plan(expires_at + timedelta(microseconds=1), _EXPIRE, run.id)

    # -- files made outside the lock -------------------------------------------------

    def prepare(self, run_id: str) -> None:
        """Make a file download's files ahead of its completion, without the store's lock.

        Rows and encoding take up to a fraction of a second (a week of events); made at
        completion they would hold every other request up. Under the lock this takes what
        the files are made from (:class:`_Recipe`: the data's seed and interval, the row
        count of the planned outcome, the file options), makes them without it, and keeps
        them for :meth:`run_finished`, which uses them only if the recipe is still the
        same (a test may re-plan the outcome meanwhile); anything else is made there.
        """
        store = self.store
        with store.lock:
            run = store.runs.get(run_id)
            export = store.on_demand_exports.get(run.batch_export_on_demand_id or "") if run else None
            planned = outcomes.planned_outcomes(store, export.id) if export is not None else []
            if run is None or export is None or run.status not in ACTIVE or not planned:
                return
            if planned[0].status != "Completed":
                return
            recipe = self._recipe(export, run, planned[0].records_completed or 0)
        made = _make(recipe)
        with store.lock:
            self._prepared[recipe] = made
            while len(self._prepared) > _PREPARED_KEPT:  # never used (a run cancelled): oldest go
                del self._prepared[next(iter(self._prepared))]

    def _recipe(self, export: OnDemandExport, run: Run, rows: int) -> _Recipe:
        return _Recipe(self._data_spec(export, run), rows, export.file_format, export.compression,
                       export.max_size_mb)  # fmt: skip

    def _expire(self, at: datetime, run_id: str, _version: int) -> None:
        """Engine event: the run's files have expired (410 from now on); their bytes go."""
        for file_id in self.store.files_by_run.get(run_id, ()):
            self.store.drop_file_content(file_id)

    def _key_base(self, export: OnDemandExport, run: Run) -> str:
        """``batch-exports/{export}/{run}/{start}-{end}``, as PostHog's file-download bucket lays keys out."""
        start = run.data_interval_start.isoformat() if run.data_interval_start else "START"
        return f"batch-exports/{export.id}/{run.id}/{start}-{run.data_interval_end.isoformat()}"

    def _data_spec(self, export: OnDemandExport, run: Run) -> DataSpec:
        config = export.destination.config
        return DataSpec(
            model=export.model,
            team_id=export.team_id,
            start=run.data_interval_start or run.data_interval_end,
            end=run.data_interval_end,
            seed=export.data_seed,
            include=tuple(config.get("include_events") or ()),
            exclude=tuple(config.get("exclude_events") or ()),
        )


def _datetime(value: Any) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:  # pragma: no cover - the spec's date-time format rejects it first
        raise ValidationError("Datetime has wrong format.", code="invalid")
    return parsed


#: The engine event that frees a run's files once they have expired.
_EXPIRE = "expire_files"
#: Prepared files kept at most (those of runs that never complete are dropped, oldest first).
_PREPARED_KEPT = 16


@dataclass(frozen=True)
class _Recipe:
    """Everything a file download's files are made from: equal recipes, equal bytes."""

    data: DataSpec
    rows: int
    file_format: str
    compression: str | None
    max_size_mb: int | None


def _make(recipe: _Recipe) -> tuple[int, list[EncodedFile]]:
    """The rows a recipe asks for, encoded: ``(row count, files)``. Pure: no store, no lock."""
    rows = generate_rows(recipe.data, recipe.rows)
    encoded = encode_files(
        recipe.data.model,
        rows,
        file_format=recipe.file_format,
        compression=recipe.compression,
        max_size_mb=recipe.max_size_mb,
    )
    return len(rows), encoded
