"""Plain records for everything a tenant owns.

Field names follow PostHog's Django models (``models/batch_export.py``) so that the
serialisers in :mod:`mockserver.http.serialize` read like PostHog's. Objects are
mutable and owned by one :class:`~mockserver.domain.store.Store`; never share them
between stores.
"""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any

from mockserver.errors import NotFound

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "check_profile",
    "require_uuid",
    "ApiKey",
    "Backfill",
    "BatchExport",
    "Destination",
    "DownloadFile",
    "Integration",
    "LogEntry",
    "OnDemandExport",
    "Organization",
    "Run",
    "Team",
]

#: The versions of PostHog's API the fake can play: ``docs`` (the API its public docs
#: describe, the default) and ``current`` (today's PostHog, with the ``hogql`` model and
#: its fields). An organization plays one; the HTTP layer has a document for each.
PROFILES = ("docs", "current")
DEFAULT_PROFILE = "docs"


def check_profile(profile: str) -> None:
    """Refuse a profile the fake cannot play (raised as :class:`ValueError` to Python callers).

    >>> check_profile("newest")
    Traceback (most recent call last):
    ...
    ValueError: unknown profile 'newest'; choose one of docs, current
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


@dataclass
class Organization:
    id: str
    name: str
    created_at: datetime
    team_ids: list[int] = field(default_factory=list)
    #: The profile of PostHog's API its projects get (``docs``/``current``); ``None``: the store's default.
    profile: str | None = None


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
    #: The ``current`` profile's fields (today's PostHog; the ``docs`` API has none of them).
    hogql_modifiers: dict[str, Any] | None = None
    primary_key: list[str] | None = None
    version_key: list[str] | None = None
    incremental_mode: str = "APPEND"
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


def _restore_slots(record: Any, state: Any) -> None:
    """Unpickle a slotted record from either shape of its state.

    Pickle gives a slotted object ``(None, {slot: value})``; a file saved while the
    record still had a ``__dict__`` holds a plain dict. Both load. A field the file does
    not hold (added since) takes its default, as it would have without slots.
    """
    if isinstance(state, tuple):
        state = {**(state[0] or {}), **(state[1] or {})}
    for spec in fields(record):
        if spec.default is not MISSING:
            object.__setattr__(record, spec.name, spec.default)
        elif spec.default_factory is not MISSING:
            object.__setattr__(record, spec.name, spec.default_factory())
    for name, value in state.items():
        object.__setattr__(record, name, value)


@dataclass(slots=True)
class Run:
    """A ``BatchExportRun``: one execution over one data interval.

    Slotted, as is :class:`LogEntry`: a fake whose clock ran for years holds millions of
    both, and a slot costs 8 bytes where a ``__dict__`` entry costs several times that.
    """

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

    __setstate__ = _restore_slots


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
    #: PostHog moves the start of a backfill from the beginning of time to the earliest
    #: data it finds; the fake has no data to look at, so this stays ``None``.
    adjusted_start_at: datetime | None = None
    total_records_count: int | None = None
    #: Its runs that ended ``Completed`` or ``Failed``, counted as they end (PostHog's
    #: ``get_finished_runs`` counts them with a query; the fake keeps the number).
    finished_runs: int = 0
    #: Records of its ``Completed`` runs, exported and failed (``None`` until one completes).
    completed_records: int | None = None


@dataclass(slots=True)
class LogEntry:
    team_id: int
    log_source_id: str
    instance_id: str
    timestamp: datetime
    level: str
    message: str

    __setstate__ = _restore_slots


@dataclass
class OnDemandExport:
    """PostHog's ``BatchExportOnDemand``: the parent of one file-download run.

    ``destination.config`` holds the file options as PostHog stores them (``format``,
    ``compression``, ``max_size_mb``, and ``include_events``/``exclude_events`` for the
    events model only).
    """

    id: str
    team_id: int
    model: str
    destination: Destination
    created_at: datetime
    #: Everything in the files is drawn from this seed (itself from the store's PRNG).
    data_seed: int
    deleted: bool = False

    @property
    def file_format(self) -> str:
        return str(self.destination.config.get("format") or "Parquet")

    @property
    def compression(self) -> str | None:
        value = self.destination.config.get("compression")
        return str(value) if value else None

    @property
    def max_size_mb(self) -> int | None:
        value = self.destination.config.get("max_size_mb")
        return int(value) if value is not None else None


@dataclass
class DownloadFile:
    """PostHog's ``BatchExportFileDownload``, plus the bytes the fake serves for it."""

    id: str
    team_id: int
    run_id: str
    #: The object key PostHog would have written to its bucket; files are ordered by it.
    key: str
    content: bytes
    content_type: str
    records: int
    created_at: datetime
    expires_at: datetime | None

    @property
    def filename(self) -> str:
        """What ``Content-Disposition`` names the file: the key's last segment."""
        return posixpath.basename(self.key)


def require_uuid(value: str) -> None:
    """Raise 404 ``Not found.`` unless ``value`` is a UUID, as a URL's export id must be.

    Django filters a ``UUIDField`` by an id that is not a UUID with a ``ValidationError``
    that PostHog's list views do not catch (a 500); a detail view turns the same error into
    a 404, which is what the fake answers everywhere (docs/fidelity.md, "Routing").

    >>> require_uuid("0190b7c2-8d8e-7a36-b4e3-6f1b2d3c4e5f")
    >>> require_uuid("0")
    Traceback (most recent call last):
    ...
    mockserver.errors.NotFound: Not found.
    """
    try:
        uuid.UUID(value)
    except ValueError:
        raise NotFound() from None
