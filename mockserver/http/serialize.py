"""Records → JSON bodies, key for key as PostHog's serializers render them.

Key order follows each serializer's ``Meta.fields`` so that bodies read like PostHog's.
Serializers take records and whatever the domain computed for them; they never look
anything up in the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mockserver.domain.dates import format_datetime as dt
from mockserver.domain.destinations import rendered_config
from mockserver.domain.models import Backfill, BatchExport, LogEntry, Run

__all__ = ["backfill_json", "batch_export_json", "log_entry_json", "run_json"]


def batch_export_json(export: BatchExport, latest_runs: Iterable[Run], *, profile: str = "docs") -> dict[str, Any]:
    """``latest_runs``: the newest runs first (``BatchExports.latest_runs``).

    The ``current`` profile adds today's fields after ``latest_runs``, in PostHog's order
    (``products/batch_exports/backend/presentation/views/batch_export/exports.py@0551d5e8e6838b4feed20f1fd8c933a80ae42737``).
    """
    destination = export.destination
    body = {
        "id": export.id,
        "team_id": export.team_id,
        "name": export.name,
        "model": export.model,
        "destination": {
            "type": destination.type,
            "config": rendered_config(destination.type, destination.config),
            "integration": destination.integration_id,
        },
        "interval": export.interval,
        "paused": export.paused,
        "created_at": dt(export.created_at),
        "last_updated_at": dt(export.last_updated_at),
        "last_paused_at": dt(export.last_paused_at),
        "start_at": dt(export.start_at),
        "end_at": dt(export.end_at),
        "latest_runs": [run_json(r) for r in latest_runs],
        "schema": export.schema,
        "filters": export.filters,
        "timezone": export.timezone,
        "offset_day": export.offset_day,
        "offset_hour": export.offset_hour,
    }
    if profile == "current":
        extra = {
            "hogql_query": export.hogql_query,
            "hogql_modifiers": export.hogql_modifiers,
            "primary_key": export.primary_key,
            "version_key": export.version_key,
            "incremental_mode": export.incremental_mode,
        }
        items = list(body.items())
        at = [key for key, _ in items].index("schema")
        body = dict(items[:at] + list(extra.items()) + items[at:])
    return body


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "records_completed": run.records_completed,
        "records_failed": run.records_failed,
        "latest_error": run.latest_error,
        "data_interval_start": dt(run.data_interval_start),
        "data_interval_end": dt(run.data_interval_end),
        "cursor": run.cursor,
        "created_at": dt(run.created_at),
        "finished_at": dt(run.finished_at),
        "last_updated_at": dt(run.last_updated_at),
        "records_total_count": run.records_total_count,
        "bytes_exported": run.bytes_exported,
        "batch_export": run.batch_export_id,
        "batch_export_on_demand": run.batch_export_on_demand_id,
        "backfill": run.backfill_id,
    }


def backfill_json(backfill: Backfill, progress: dict[str, Any] | None) -> dict[str, Any]:
    """In DRF's order for ``fields = "__all__"``: the key, the declared ``progress``, the model's
    own fields as defined, then its foreign keys (``BatchExportBackfill`` in
    ``products/batch_exports/backend/models/batch_export.py@c25410746c7e617b3cf91c6f7263b7030868475b``).
    """
    return {
        "id": backfill.id,
        "progress": progress,
        "start_at": dt(backfill.start_at),
        "end_at": dt(backfill.end_at),
        "status": backfill.status,
        "created_at": dt(backfill.created_at),
        "finished_at": dt(backfill.finished_at),
        "last_updated_at": dt(backfill.last_updated_at),
        "total_records_count": backfill.total_records_count,
        "adjusted_start_at": dt(backfill.adjusted_start_at),
        "team": backfill.team_id,
        "batch_export": backfill.batch_export_id,
    }


def log_entry_json(entry: LogEntry) -> dict[str, Any]:
    return {
        "log_source_id": entry.log_source_id,
        "instance_id": entry.instance_id,
        "timestamp": dt(entry.timestamp),
        "level": entry.level.upper(),
        "message": entry.message,
    }
