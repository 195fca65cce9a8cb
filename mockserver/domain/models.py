"""Plain records for everything a tenant owns.

Field names follow PostHog's Django models (``models/batch_export.py``) so that the
serialisers in :mod:`mockserver.http.serialize` read like PostHog's. Objects are
mutable and owned by one :class:`~mockserver.domain.store.Store`; never share them
between stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ApiKey",
    "Backfill",
    "BatchExport",
    "Destination",
    "Integration",
    "LogEntry",
    "Organization",
    "Run",
    "Team",
]


@dataclass
class Organization:
    id: str
    name: str
    created_at: datetime
    team_ids: list[int] = field(default_factory=list)


@dataclass
class Team:
    """A PostHog project (the ``team`` of PostHog's models; ``project_id`` in URLs)."""

    id: int
    organization_id: str
    name: str
    created_at: datetime
    timezone: str = "UTC"
    #: Feature flags PostHog would evaluate for this team (all off for a normal customer).
    feature_flags: set[str] = field(default_factory=set)


@dataclass
class ApiKey:
    """A personal API key: its owner is a member of ``organization_ids``."""

    value: str
    scopes: list[str]
    organization_ids: list[str]
    #: The team ``@current`` resolves to.
    current_team_id: int
    #: Restrict the key to these teams / organizations (``None`` = unrestricted).
    scoped_teams: list[int] | None = None
    scoped_organizations: list[str] | None = None


@dataclass
class Integration:
    id: int
    team_id: int
    kind: str


@dataclass
class Destination:
    type: str
    #: Stored with secrets; serialisation strips them.
    config: dict[str, Any]
    integration_id: int | None = None


@dataclass
class BatchExport:
    id: str
    team_id: int
    name: str
    model: str | None
    destination: Destination
    interval: str
    paused: bool
    created_at: datetime
    last_updated_at: datetime
    last_paused_at: datetime | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    hogql_query: str | None = None
    schema: dict[str, Any] | None = None
    filters: Any = None
    timezone: str = "UTC"
    #: Seconds after the interval boundary; the API shows it as offset_day/offset_hour.
    interval_offset: int | None = None
    deleted: bool = False
    #: Creation order within the store: newest first is descending ``seq``, ties included.
    seq: int = 0

    @property
    def offset_day(self) -> int | None:
        """0–6 (0 = Sunday) for weekly exports, else ``None`` (``models/batch_export.py``)."""
        if self.interval != "week":
            return None
        return (self.interval_offset or 0) // 86400

    @property
    def offset_hour(self) -> int | None:
        """0–23 for daily and weekly exports, else ``None``."""
        if self.interval not in ("day", "week"):
            return None
        return ((self.interval_offset or 0) // 3600) % 24


@dataclass
class Run:
    """A ``BatchExportRun``: one execution over one data interval."""

    id: str
    team_id: int
    status: str
    data_interval_start: datetime | None
    data_interval_end: datetime
    created_at: datetime
    last_updated_at: datetime
    batch_export_id: str | None = None
    batch_export_on_demand_id: str | None = None
    backfill_id: str | None = None
    records_completed: int | None = None
    records_failed: int | None = None
    records_total_count: int | None = None
    bytes_exported: int | None = None
    latest_error: str | None = None
    cursor: str | None = None
    finished_at: datetime | None = None


@dataclass
class Backfill:
    id: str
    team_id: int
    batch_export_id: str
    start_at: datetime | None
    end_at: datetime | None
    status: str
    created_at: datetime
    last_updated_at: datetime
    finished_at: datetime | None = None
    adjusted_start_at: datetime | None = None
    total_records_count: int | None = None


@dataclass
class LogEntry:
    team_id: int
    log_source_id: str
    instance_id: str
    timestamp: datetime
    level: str
    message: str
