"""The root of all state in one fake: tenants and everything they own, with one ``reset()``.

A :class:`Store` is a plain object; make as many as you like (two fakes in one process
share no state: only the parsed, read-only spec). Every mutation happens under :attr:`Store.lock`, which the HTTP
layer holds for the length of one request, so a request sees and leaves a consistent
state even on a threaded server.

**Who writes what.** Each table has one owner, the only code that adds to it or removes
from it, and that owner keeps the table's indexes in step (:data:`TABLES` says which);
everyone else reads. The records' fields are changed by the domain services that own
their rules (a run's status only through :func:`~mockserver.domain.lifecycle.transition`).

>>> store = Store(seed=1)
>>> tenant = store.create_tenant()
>>> tenant.api_key.startswith("phx_"), store.teams[tenant.project_id].organization_id == tenant.organization_id
(True, True)
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mockserver.clock import DEFAULT_EPOCH, Clock
from mockserver.domain.dates import format_datetime
from mockserver.domain.destinations import INTEGRATION_KINDS
from mockserver.domain.lifecycle import Outcome, Progression
from mockserver.domain.locking import StoreLock
from mockserver.domain.models import (
    DEFAULT_PROFILE,
    PROFILES,
    ApiKey,
    Backfill,
    BatchExport,
    DownloadFile,
    Integration,
    LogEntry,
    OnDemandExport,
    Organization,
    Run,
    Team,
    check_profile,
)
from mockserver.domain.snapshot import plain
from mockserver.domain.tables import ShardedDict
from mockserver.domain.text import check_characters
from mockserver.domain.timeline import Timeline
from mockserver.errors import ValidationError
from mockserver.ids import IdSource

__all__ = [
    "ALL_SCOPES",
    "FEATURE_FLAGS",
    "INDEXES",
    "SCHEDULER_STATE",
    "SCOPES",
    "SCOPE_OBJECTS",
    "SETTINGS",
    "STATE_KINDS",
    "TABLES",
    "Limits",
    "Store",
    "Tenant",
    "check_tenant_settings",
]

#: Every table of a store → the one module that adds and removes its rows (and keeps its
#: indexes): the store's own writers (``add_export``, ``add_run``…) for the records, the
#: outcomes module for the planned-outcome queues. ``GET /_mock/state/`` shows every row of
#: every table, and ``tests/test_store.py`` holds both rules.
TABLES: dict[str, str] = {
    "organizations": "mockserver.domain.store",
    "teams": "mockserver.domain.store",
    "api_keys": "mockserver.domain.store",
    "integrations": "mockserver.domain.store",
    "batch_exports": "mockserver.domain.store",
    "runs": "mockserver.domain.store",
    "backfills": "mockserver.domain.store",
    "logs": "mockserver.domain.store",
    "on_demand_exports": "mockserver.domain.store",
    "download_files": "mockserver.domain.store",
    "planned_outcomes": "mockserver.domain.outcomes",
    "file_download_outcomes": "mockserver.domain.outcomes",
}
#: Lookups derived from a table → that table (its owner keeps them; never shown on their own).
INDEXES: dict[str, str] = {
    "exports_by_team": "batch_exports",
    "listed_exports": "batch_exports",
    "runs_by_export": "runs",
    "runs_by_backfill": "runs",
    "backfills_by_export": "backfills",
    "backfills_by_team": "backfills",
    "runs_by_created": "runs",
    "runs_by_start": "runs",
    "logs_by_source": "logs",
    "logs_by_instance": "logs",
    "files_by_run": "download_files",
    "integrations_by_team": "integrations",
    "runs_by_team": "runs",
    "logs_by_team": "logs",
    "files_by_team": "download_files",
    "file_downloads_by_team": "on_demand_exports",
}
#: How the fake behaves rather than what it holds; shown at the top of the state.
SETTINGS = ("progression", "limits", "default_profile")
#: The scheduler's queue → its owner. Not shown: when a run moves on is already visible on
#: the runs themselves.
SCHEDULER_STATE: dict[str, str] = {
    "events": "mockserver.domain.engine",
    "event_seq": "mockserver.domain.engine",
    "schedule_versions": "mockserver.domain.engine",
    "retired_teams": "mockserver.domain.engine",
}

#: The lists ``GET /_mock/state/`` shows for an organization (``api_keys``) or a project
#: (the rest); ``kind=`` picks some.
STATE_KINDS = (
    "api_keys", "integrations", "batch_exports", "runs", "backfills", "logs", "on_demand_exports", "download_files",
    "planned_file_download_outcomes",
)  # fmt: skip
#: The lists turned into JSON values after the lock is released (the many rows).
_RENDERED_LATER = ("runs", "backfills", "logs")

#: The scopes a new tenant's key gets unless told otherwise.
ALL_SCOPES = ("batch_export:read", "batch_export:write")

#: The objects of PostHog's personal API key scopes, as ``APIScopeObject`` lists them
#: (``posthog/models/scopes.py@492e033f836e6567370efbf3a1ce3a73fc1f74a6``); only
#: ``batch_export`` matters to this API, the others let a test build a key that lacks it.
SCOPE_OBJECTS = (
    "action", "activity_log", "annotation", "batch_export", "cohort", "dashboard", "dashboard_template",
    "early_access_feature", "error_tracking", "event_definition", "experiment", "export", "feature_flag",
    "file_system", "file_system_shortcut", "group", "hog_function", "insight", "link", "notebook", "organization",
    "organization_member", "person", "persisted_folder", "plugin", "project", "property_definition", "query",
    "session_recording", "session_recording_playlist", "sharing_configuration", "subscription", "survey", "user",
    "user_interview_DO_NOT_USE", "webhook", "logs", "chat_conversation",
)  # fmt: skip
#: Every scope a key may have: ``*`` or ``<object>:read`` / ``<object>:write``.
SCOPES = ("*", *(f"{obj}:{action}" for obj in SCOPE_OBJECTS for action in ("read", "write")))
_KNOWN_SCOPES = frozenset(SCOPES)

#: The PostHog feature flags this API reads (all off for a normal customer).
FEATURE_FLAGS = (
    "high-frequency-batch-exports",
    "backfill-workflows-destination",
    "batch-export-earliest-backfill",
    "hogql-batch-exports",
)


def check_tenant_settings(scopes: Iterable[str], feature_flags: Iterable[str], profile: str | None = None) -> None:
    """Refuse a scope, feature flag or profile that does not exist (a typo would surface later as a 403).

    >>> check_tenant_settings(["batch_export:raed"], [])
    Traceback (most recent call last):
    ...
    mockserver.errors.ValidationError: "batch_export:raed" is not a valid choice.
    """
    for index, scope in enumerate(scopes):
        if not isinstance(scope, str) or scope not in _KNOWN_SCOPES:
            raise ValidationError(f'"{scope}" is not a valid choice.', code="invalid_choice", attr=f"scopes__{index}")
    for index, flag in enumerate(feature_flags):
        if not isinstance(flag, str) or flag not in FEATURE_FLAGS:
            raise ValidationError(
                f'"{flag}" is not a valid choice.', code="invalid_choice", attr=f"feature_flags__{index}"
            )
    if profile is not None and profile not in PROFILES:
        raise ValidationError(f'"{profile}" is not a valid choice.', code="invalid_choice", attr="profile")


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
    #: The profile of PostHog's API the tenant's requests get (``docs`` or ``current``).
    profile: str = "docs"

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
            "profile": self.profile,
        }


class Store:
    """All state of one fake.

    Args:
        seed: seeds every id and generated value (see :class:`~mockserver.ids.IdSource`).
        clock: the clock the fake reads; a frozen clock at a fixed epoch by default.
    """

    def __init__(self, seed: int = 0, clock: Clock | None = None, profile: str = DEFAULT_PROFILE) -> None:
        check_profile(profile)
        self.lock = StoreLock()
        #: The profile of PostHog's API (``docs`` or ``current``) a tenant created without
        #: one gets; it survives :meth:`reset`, like the clock.
        self.default_profile = profile
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
        #: Sharded: a ``dict`` of millions of runs would pause everyone each time it grows.
        self.runs: ShardedDict[Run] = ShardedDict()
        #: Run ids per export (or on-demand export) and per backfill, in creation order.
        self.runs_by_export: dict[str, list[str]] = {}
        self.runs_by_backfill: dict[str, list[str]] = {}
        #: Per team, in creation order, for the state of one tenant: runs, log lines,
        #: integrations and download files.
        self.runs_by_team: dict[int, list[str]] = {}
        self.logs_by_team: dict[int, list[LogEntry]] = {}
        self.integrations_by_team: dict[int, list[int]] = {}
        self.files_by_team: dict[int, list[str]] = {}
        #: The same runs per export in time order, by ``created_at`` and (those with a start)
        #: by ``data_interval_start``: a list's window and page are found by bisection.
        self.runs_by_created: dict[str, Timeline[Run]] = {}
        self.runs_by_start: dict[str, Timeline[Run]] = {}
        self.backfills: dict[str, Backfill] = {}
        self.backfills_by_export: dict[str, list[str]] = {}
        self.backfills_by_team: dict[int, list[str]] = {}
        #: Worker log lines, all of them and per ``log_source_id``.
        self.logs: list[LogEntry] = []
        self.logs_by_source: dict[str, Timeline[LogEntry]] = {}
        self.logs_by_instance: ShardedDict[list[LogEntry]] = ShardedDict()  # a key per run
        #: The scheduler's pending events, a heap of ``(time, seq, kind, object id, version)``.
        self.events: list[tuple[datetime, int, str, str, int]] = []
        self.event_seq = 0
        #: Bumped whenever an export's schedule changes; events of older versions are dropped.
        self.schedule_versions: dict[str, int] = {}
        #: Teams of retired tenants (``Engine.retire``): the clock starts no more work for them.
        self.retired_teams: set[int] = set()
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

    # -- the tables' writers (each keeps its table's indexes) -------------------------

    def add_export(self, export: BatchExport) -> None:
        """A new batch export; lists show it unless it is a Workflows one."""
        with self.lock:
            self.batch_exports[export.id] = export
            self.exports_by_team.setdefault(export.team_id, []).append(export.id)
            if export.destination.type != "Workflows":
                self.listed_exports.setdefault(export.team_id, []).append(export.id)

    def unlist_export(self, export: BatchExport) -> None:
        """Take a (soft-deleted) export out of its team's list; it stays in the table."""
        with self.lock:
            listed = self.listed_exports.get(export.team_id, [])
            if export.id in listed:
                listed.remove(export.id)

    def add_run(self, run: Run) -> None:
        """A new run, indexed under its export (or on-demand export), in time order, and its backfill."""
        with self.lock:
            self.runs[run.id] = run
            key = run.batch_export_id or run.batch_export_on_demand_id or ""
            self.runs_by_export.setdefault(key, []).append(run.id)
            self.runs_by_team.setdefault(run.team_id, []).append(run.id)
            created = self.runs_by_created.get(key)
            if created is None:
                created = self.runs_by_created[key] = Timeline()
                self.runs_by_start[key] = Timeline()
            # Lists break ties in creation order (created_at, then arrival). Runs arrive in
            # that order but for a factory's run of an earlier interval, placed by it.
            in_turn = not created.keys or run.created_at >= created.keys[-1]
            created.add(run.created_at, run)
            if run.data_interval_start is not None:
                starts = self.runs_by_start[key]
                if in_turn:
                    starts.add(run.data_interval_start, run)
                else:
                    starts.add_among_ties(run.data_interval_start, run, _created_at)
            if run.backfill_id:
                self.runs_by_backfill.setdefault(run.backfill_id, []).append(run.id)

    def add_backfill(self, backfill: Backfill) -> None:
        with self.lock:
            self.backfills[backfill.id] = backfill
            self.backfills_by_export.setdefault(backfill.batch_export_id, []).append(backfill.id)
            self.backfills_by_team.setdefault(backfill.team_id, []).append(backfill.id)

    def add_log(self, entry: LogEntry) -> None:
        """Record a worker log line (what PostHog's workers write to ``log_entries``)."""
        with self.lock:
            self.logs.append(entry)
            by_source = self.logs_by_source.get(entry.log_source_id)
            if by_source is None:
                by_source = self.logs_by_source[entry.log_source_id] = Timeline()
            by_source.add(entry.timestamp, entry)
            self.logs_by_instance.setdefault(entry.instance_id, []).append(entry)
            self.logs_by_team.setdefault(entry.team_id, []).append(entry)

    def add_on_demand_export(self, export: OnDemandExport, run: Run) -> None:
        """A file download: its parent, listed with its team's file downloads by ``run``.

        The run itself goes in with :meth:`add_run` (the engine registers it).
        """
        with self.lock:
            self.on_demand_exports[export.id] = export
            self.file_downloads_by_team.setdefault(export.team_id, []).append(run.id)

    def add_download_file(self, file: DownloadFile) -> None:
        with self.lock:
            self.download_files[file.id] = file
            self.files_by_run.setdefault(file.run_id, []).append(file.id)
            self.files_by_team.setdefault(file.team_id, []).append(file.id)

    def drop_file_content(self, file_id: str) -> None:
        """Free an expired file's bytes (it is never served again); its row stays."""
        with self.lock:
            file = self.download_files.get(file_id)
            if file is not None:
                file.content = b""

    def profile_of_organization(self, organization_id: str) -> str:
        """The profile of PostHog's API an organization's requests get."""
        org = self.organizations.get(organization_id)
        return (org.profile if org is not None else None) or self.default_profile

    def profile_of_team(self, team_id: int) -> str:
        team = self.teams.get(team_id)
        return self.profile_of_organization(team.organization_id) if team is not None else self.default_profile

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
        profile: str | None = None,
    ) -> Tenant:
        """A new organization with one project, one personal API key and one integration per kind.

        ``profile`` picks the version of PostHog's API its requests get (``docs`` or
        ``current``; the store's :attr:`default_profile` when ``None``).

        Raises:
            ValidationError: an unknown scope, feature flag or profile (nothing is created).
        """
        scopes, feature_flags = list(scopes), list(feature_flags)
        check_tenant_settings(scopes, feature_flags, profile)
        for name, attr in ((organization_name, "organization_name"), (project_name, "project_name")):
            if name is not None:
                check_characters(name, attr)
        # Each once, in the order given: a key's scopes are a set (a list of 100,000 copies is one scope).
        scopes, feature_flags = list(dict.fromkeys(scopes)), list(dict.fromkeys(feature_flags))
        with self.lock:
            now = self.clock.now()
            org_id = str(self.ids.uuid4())
            team_id = self.ids.next_int("team")
            org = Organization(org_id, organization_name or f"Organization {team_id}", now, [team_id], profile)
            team = Team(team_id, org_id, project_name or f"Project {team_id}", now, feature_flags=set(feature_flags))
            self.organizations[org_id] = org
            self.teams[team_id] = team
            self.exports_by_team[team_id] = []
            key = ApiKey(self.ids.token("phx_"), list(scopes), [org_id], team_id)
            self.api_keys[key.value] = key
            self._add_integrations(team_id)
            return self._tenant(org, team, key)

    def _add_integrations(self, team_id: int) -> None:
        """One integration of each kind for a new project (destinations that need one name it)."""
        for kind, _label in INTEGRATION_KINDS.values():
            integration = Integration(self.ids.next_int("integration"), team_id, kind)
            self.integrations[integration.id] = integration
            self.integrations_by_team.setdefault(team_id, []).append(integration.id)

    def project_integrations(self, team_id: int) -> list[dict[str, Any]]:
        """``[{"id", "kind"}]`` of a project's integrations, as a tenant lists them."""
        return [{"id": i, "kind": self.integrations[i].kind} for i in self.integrations_by_team.get(team_id, [])]

    def has_project(self, project_id: int) -> bool:
        return project_id in self.teams

    def has_api_key(self, value: str) -> bool:
        return value in self.api_keys

    def tenant(self, organization_id: str) -> Tenant | None:
        """The :class:`Tenant` :meth:`create_tenant` made for ``organization_id`` (its first
        project and the key made with it), as it stands now; ``None`` if there is no such
        organization (a reset forgot it)."""
        with self.lock:
            org = self.organizations.get(organization_id)
            if org is None or not org.team_ids:
                return None
            team = self.teams[org.team_ids[0]]
            key = next(
                (k for k in self.api_keys.values() if organization_id in k.organization_ids and k.scoped_teams is None),
                None,
            )
            return self._tenant(org, team, key) if key is not None else None

    def _tenant(self, org: Organization, team: Team, key: ApiKey) -> Tenant:
        """What :meth:`create_tenant` and :meth:`tenant` hand back for an organization, project and key."""
        integrations = self.project_integrations(team.id)
        return Tenant(
            organization_id=org.id,
            organization_name=org.name,
            project_id=team.id,
            project_name=team.name,
            api_key=key.value,
            scopes=list(key.scopes),
            feature_flags=sorted(team.feature_flags),
            integrations=integrations,
            profile=self.profile_of_organization(org.id),
        )

    def create_api_key(self, project_id: int, scopes: Iterable[str]) -> ApiKey:
        """Another personal API key of ``project_id``'s organization, restricted to that project.

        What a contract suite needs to check scopes on objects it already made: a read-only
        key (``["batch_export:read"]``) next to the tenant's read-write one.

        >>> store = Store()
        >>> tenant = store.create_tenant()
        >>> key = store.create_api_key(tenant.project_id, ["batch_export:read"])
        >>> key.scopes, key.scoped_teams == [tenant.project_id]
        (['batch_export:read'], True)
        """
        with self.lock:
            team = self.teams.get(project_id)
            if team is None:
                raise KeyError(project_id)
            scopes = list(dict.fromkeys(scopes))  # each once, as create_tenant keeps them
            key = ApiKey(self.ids.token("phx_"), scopes, [team.organization_id], team.id, scoped_teams=[team.id])
            self.api_keys[key.value] = key
            return key

    def add_project(self, organization_id: str, name: str | None = None) -> Team:
        """Another project in an existing organization, with an integration of each kind: the
        organization's keys reach it, a key restricted to other projects does not.

        Raises:
            KeyError: there is no such organization.
            ValidationError: ``name`` holds a NUL or a lone surrogate.
        """
        if name is not None:
            check_characters(name, "name")
        with self.lock:
            org = self.organizations[organization_id]
            team_id = self.ids.next_int("team")
            team = Team(team_id, organization_id, name or f"Project {team_id}", self.clock.now())
            self.teams[team_id] = team
            self.exports_by_team[team_id] = []
            org.team_ids.append(team_id)
            self._add_integrations(team_id)
            return team

    # -- state dump ------------------------------------------------------------------

    def snapshot(
        self, organization_ids: Iterable[str] | None = None, *, project_id: int | None = None,
        kinds: Collection[str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Every row of every table as plain JSON-able data, grouped by tenant (``GET /_mock/state/``).

        It shows stored values as they are (secrets included, deleted exports included,
        a file's bytes as their size), which is what a test debugging the fake wants; the
        PostHog API never shows them this way. The arguments narrow it, as
        :meth:`capture_state` says.
        """
        return self.capture_state(organization_ids, project_id=project_id, kinds=kinds)()

    def capture_state(
        self, organization_ids: Iterable[str] | None = None, *, project_id: int | None = None,
        kinds: Collection[str] | None = None,
    ) -> Callable[[], dict[str, Any]]:  # fmt: skip
        """Take the state as of now; the function returned renders it, without the lock.

        ``organization_ids``: only these organizations (default: all, in creation order);
        ``project_id``: only that project of theirs; ``kinds``: only these lists of
        :data:`STATE_KINDS` (default: all). What is taken costs what is shown: each
        tenant's rows are found through its indexes. Under the lock the records that can
        still change (runs, backfills) are copied, the few others rendered; turning the
        many runs and log lines into JSON values (most of the work) waits for the call.
        """
        wanted = frozenset(STATE_KINDS if kinds is None else kinds)
        with self.lock:
            orgs = (
                list(self.organizations.values())
                if organization_ids is None
                else [self.organizations[i] for i in organization_ids]
            )
            organizations = []
            for org in orgs:
                team_ids = [project_id] if project_id is not None else org.team_ids
                entry: dict[str, Any] = plain(org)
                if "api_keys" in wanted:
                    entry["api_keys"] = [plain(k) for k in self.api_keys.values() if org.id in k.organization_ids]
                entry["projects"] = [self._capture_project(self.teams[team_id], wanted) for team_id in team_ids]
                organizations.append(entry)
            state = {
                "now": format_datetime(self.clock.now()),
                "seed": self.ids.seed,
                "progression": plain(self.progression),
                "limits": plain(self.limits),
                "organizations": organizations,
            }

        def render() -> dict[str, Any]:
            for org in organizations:
                for project in org["projects"]:
                    for kind in _RENDERED_LATER:
                        if kind in project:
                            project[kind] = [plain(record) for record in project[kind]]
            return state

        return render

    def _capture_project(self, team: Team, wanted: frozenset[str]) -> dict[str, Any]:
        def with_outcomes(export: BatchExport | OnDemandExport) -> dict[str, Any]:
            return {**plain(export), "planned_outcomes": plain(self.planned_outcomes.get(export.id, ()))}

        mine = team.id
        project: dict[str, Any] = plain(team)
        if "integrations" in wanted:
            project["integrations"] = [plain(self.integrations[i]) for i in self.integrations_by_team.get(mine, ())]
        if "batch_exports" in wanted:
            project["batch_exports"] = [
                with_outcomes(self.batch_exports[i]) for i in self.exports_by_team.get(mine, [])
            ]
        if "runs" in wanted:  # copied: a run's status still changes
            project["runs"] = [copy.copy(self.runs[i]) for i in self.runs_by_team.get(mine, ())]
        if "backfills" in wanted:
            project["backfills"] = [copy.copy(self.backfills[i]) for i in self.backfills_by_team.get(mine, ())]
        if "logs" in wanted:  # a log line never changes once written
            project["logs"] = list(self.logs_by_team.get(mine, ()))
        if "on_demand_exports" in wanted:
            project["on_demand_exports"] = [
                with_outcomes(self.on_demand_exports[self.runs[run_id].batch_export_on_demand_id or ""])
                for run_id in self.file_downloads_by_team.get(mine, ())
            ]
        if "download_files" in wanted:
            project["download_files"] = [plain(self.download_files[i]) for i in self.files_by_team.get(mine, ())]
        if "planned_file_download_outcomes" in wanted:
            project["planned_file_download_outcomes"] = plain(self.file_download_outcomes.get(mine, ()))
        return project

    def tenant_of(self, tenant: str) -> tuple[str, int | None] | None:
        """An organization id, or a project id (digits), as ``(organization id, project id or None)``."""
        with self.lock:
            if tenant in self.organizations:
                return tenant, None
            if tenant.isascii() and tenant.isdigit() and int(tenant) in self.teams:
                team = self.teams[int(tenant)]
                return team.organization_id, team.id
            return None


def _created_at(run: Run) -> datetime:
    return run.created_at
