"""The root of all state in one fake: tenants and everything they own, with one ``reset()``.

A :class:`Store` is a plain object; make as many as you like (two fakes in one process
share no state: only the parsed, read-only spec). Every mutation happens under :attr:`Store.lock`, which the HTTP
layer holds for the length of one request, so a request sees and leaves a consistent
state even on a threaded server.

>>> store = Store(seed=1)
>>> tenant = store.create_tenant()
>>> tenant.api_key.startswith("phx_"), store.teams[tenant.project_id].organization_id == tenant.organization_id
(True, True)
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mockserver.clock import DEFAULT_EPOCH, Clock
from mockserver.domain.destinations import INTEGRATION_KINDS
from mockserver.domain.lifecycle import Outcome, Progression
from mockserver.domain.models import (
    ApiKey,
    Backfill,
    BatchExport,
    Integration,
    LogEntry,
    Organization,
    Run,
    Team,
)
from mockserver.ids import IdSource

if TYPE_CHECKING:  # file_downloads imports this module; its records are only annotations here
    from mockserver.domain.file_downloads import DownloadFile, OnDemandExport

__all__ = ["ALL_SCOPES", "Limits", "Store", "Tenant"]

#: The scopes a new tenant's key gets unless told otherwise.
ALL_SCOPES = ("batch_export:read", "batch_export:write")


@dataclass
class Limits:
    """``BATCH_EXPORT_MAX_CONCURRENT_BACKFILLS_PER_TEAM`` and ``…_ON_DEMAND_PER_TEAM``."""

    concurrent_backfills: int = 10
    concurrent_file_downloads: int = 10
    #: How long a file download's files stay downloadable after the run completes
    #: (the bucket's expiry; PostHog's value is not public either).
    file_download_expiration_seconds: int = 3600


@dataclass
class Tenant:
    """What :meth:`Store.create_tenant` hands back: enough to start calling the API."""

    organization_id: str
    organization_name: str
    project_id: int
    project_name: str
    api_key: str
    scopes: list[str]
    feature_flags: list[str]
    integrations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "organization_name": self.organization_name,
            "project_id": self.project_id,
            "project_name": self.project_name,
            "api_key": self.api_key,
            "scopes": list(self.scopes),
            "feature_flags": list(self.feature_flags),
            "integrations": [dict(i) for i in self.integrations],
        }


class Store:
    """All state of one fake.

    Args:
        seed: seeds every id and generated value (see :class:`~mockserver.ids.IdSource`).
        clock: the clock the fake reads; a frozen clock at a fixed epoch by default.
    """

    def __init__(self, seed: int = 0, clock: Clock | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock.frozen(DEFAULT_EPOCH)
        self.ids = IdSource(seed)
        #: Called (under the lock) after every :meth:`reset`, for state kept outside the
        #: store, such as the HTTP layer's planned faults, latency rules and journal.
        self.reset_listeners: list[Callable[[], None]] = []
        self._init_state()

    def _init_state(self) -> None:
        self.organizations: dict[str, Organization] = {}
        self.teams: dict[int, Team] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.integrations: dict[int, Integration] = {}
        #: Every export ever created, deleted ones included (soft delete), by id.
        self.batch_exports: dict[str, BatchExport] = {}
        #: Per team, ids in creation order (lists are served newest first).
        self.exports_by_team: dict[int, list[str]] = {}
        #: Per team, the ids a list shows (not deleted, not Workflows), in creation order:
        #: a page is a slice of it, whatever the number of exports.
        self.listed_exports: dict[int, list[str]] = {}
        self.runs: dict[str, Run] = {}
        #: Run ids per export (or on-demand export) and per backfill, in creation order.
        self.runs_by_export: dict[str, list[str]] = {}
        self.runs_by_backfill: dict[str, list[str]] = {}
        self.backfills: dict[str, Backfill] = {}
        self.backfills_by_export: dict[str, list[str]] = {}
        self.backfills_by_team: dict[int, list[str]] = {}
        #: Worker log lines, all of them and per ``log_source_id``.
        self.logs: list[LogEntry] = []
        self.logs_by_source: dict[str, list[LogEntry]] = {}
        #: The scheduler's pending events, a heap of ``(time, seq, kind, object id, version)``.
        self.events: list[tuple[datetime, int, str, str, int]] = []
        self.event_seq = 0
        #: Bumped whenever an export's schedule changes; events of older versions are dropped.
        self.schedule_versions: dict[str, int] = {}
        #: Planned endings for the next runs of an export (``/_mock/outcomes/``), in order.
        self.planned_outcomes: dict[str, deque[Outcome]] = {}
        #: Timing of every run's lifecycle (``/_mock/progression/``).
        self.progression = Progression()
        #: PostHog's per-team limits; their defaults are not public, see docs/fidelity.md.
        self.limits = Limits()
        #: File downloads: their parents (``BatchExportOnDemand``) by id, their files by id,
        #: each run's file ids, and each team's file-download run ids in creation order.
        self.on_demand_exports: dict[str, OnDemandExport] = {}
        self.download_files: dict[str, DownloadFile] = {}
        self.files_by_run: dict[str, list[str]] = {}
        self.file_downloads_by_team: dict[int, list[str]] = {}
        #: Endings planned for a team's next file downloads (``FileDownloads.plan_outcomes``).
        self.file_download_outcomes: dict[int, deque[Outcome]] = {}

    def add_log(self, entry: LogEntry) -> None:
        """Record a worker log line (what PostHog's workers write to ``log_entries``)."""
        with self.lock:
            self.logs.append(entry)
            self.logs_by_source.setdefault(entry.log_source_id, []).append(entry)

    def reset(self, seed: int | None = None) -> None:
        """Forget every tenant and object; optionally reseed the id source."""
        with self.lock:
            self._init_state()
            self.ids.reseed(self.ids.seed if seed is None else seed)
            for listener in self.reset_listeners:
                listener()

    # -- tenants -------------------------------------------------------------------

    def create_tenant(
        self,
        *,
        scopes: Iterable[str] = ALL_SCOPES,
        feature_flags: Iterable[str] = (),
        organization_name: str | None = None,
        project_name: str | None = None,
    ) -> Tenant:
        """A new organization with one project, one personal API key and one integration per kind."""
        with self.lock:
            now = self.clock.now()
            org_id = str(self.ids.uuid4())
            team_id = self.ids.next_int("team")
            org = Organization(org_id, organization_name or f"Organization {team_id}", now, [team_id])
            team = Team(team_id, org_id, project_name or f"Project {team_id}", now, feature_flags=set(feature_flags))
            self.organizations[org_id] = org
            self.teams[team_id] = team
            self.exports_by_team[team_id] = []
            key = ApiKey(self.ids.token("phx_"), list(scopes), [org_id], team_id)
            self.api_keys[key.value] = key
            integrations = []
            for kind, _label in INTEGRATION_KINDS.values():
                integration = Integration(self.ids.next_int("integration"), team_id, kind)
                self.integrations[integration.id] = integration
                integrations.append({"id": integration.id, "kind": kind})
            return Tenant(
                organization_id=org_id,
                organization_name=org.name,
                project_id=team_id,
                project_name=team.name,
                api_key=key.value,
                scopes=list(key.scopes),
                feature_flags=sorted(team.feature_flags),
                integrations=integrations,
            )

    def add_project(self, organization_id: str, name: str | None = None) -> Team:
        """Another project in an existing organization (for cross-team isolation tests)."""
        with self.lock:
            org = self.organizations[organization_id]
            team_id = self.ids.next_int("team")
            team = Team(team_id, organization_id, name or f"Project {team_id}", self.clock.now())
            self.teams[team_id] = team
            self.exports_by_team[team_id] = []
            org.team_ids.append(team_id)
            return team

    # -- state dump ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Every tenant and its objects as plain JSON-able data (``GET /_mock/state``)."""
        from mockserver.domain.snapshot import snapshot

        with self.lock:
            return snapshot(self)
