"""Batch exports: create, update, pause, unpause, delete, with PostHog's validation order.

PostHog validates a write with a DRF serializer (``BatchExportSerializer``,
``products/batch_exports/backend/api/batch_export.py``). Its observable contract, which
this module reproduces:

1. fields are validated in ``Meta.fields`` order (:data:`FIELD_ORDER`); each field's
   first error is collected and only the first collected error is reported;
2. a ``PermissionDenied`` raised by a field validator (sub-hour intervals without the
   feature flag) aborts at once with 403, even when an earlier field had an error;
3. then the serializer-level ``validate()`` runs (offsets → ``interval_offset``).

Structural errors (types, enums, ``required``, ``null``, ``blank``) are found by the
HTTP layer against the OpenAPI document and passed in as ``field_errors``; this module
adds the rules a schema cannot express.
"""

from __future__ import annotations

import heapq
import itertools
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from mockserver.domain import connectivity, destinations
from mockserver.domain.dates import parse_datetime
from mockserver.domain.hogql import compile_query
from mockserver.domain.models import BatchExport, Destination, Organization, Run, Team
from mockserver.domain.store import Store
from mockserver.domain.text import check_characters
from mockserver.errors import APIError, NotFound, PermissionDenied, ValidationError

__all__ = ["FIELD_ORDER", "LATEST_RUNS", "BatchExports", "FieldErrors"]

#: How many runs ``latest_runs`` shows.
LATEST_RUNS = 10

#: ``BatchExportSerializer.Meta.fields``, writable ones, in DRF's validation order. The
#: ``current`` profile's four fields (after ``hogql_query``) exist only there (``products/batch_exports/
#: backend/presentation/views/batch_export/exports.py`` at ``0551d5e8e6838b4feed20f1fd8c933a80ae42737``).
FIELD_ORDER = (
    "name", "model", "destination", "interval", "paused", "last_paused_at", "start_at",
    "end_at", "hogql_query", "hogql_modifiers", "primary_key", "version_key", "incremental_mode",
    "filters", "timezone", "offset_day", "offset_hour",
)  # fmt: skip
#: Fields of the ``current`` profile only: the ``docs`` API ignores them, as unknown keys.
CURRENT_ONLY_FIELDS = frozenset({"hogql_modifiers", "primary_key", "version_key", "incremental_mode"})
HOGQL_PLACEHOLDERS = ("{data_interval_start}", "{data_interval_end}")

#: First structural error per top-level field, found by the HTTP layer.
FieldErrors = Mapping[str, APIError]

HIGH_FREQUENCY_INTERVALS = ("every 5 minutes", "every 15 minutes")
_FILTER_TYPES = ("event", "hogql", "person")


@dataclass
class _Write:
    """One create/update being validated: the request plus where it lands."""

    team: Team
    data: Mapping[str, Any]
    instance: BatchExport | None
    partial: bool
    #: The profile of PostHog's API the write follows (``docs`` or ``current``).
    profile: str = "docs"
    #: Whether PostHog's serializer has a team in its context: not at an organization URL,
    #: where its team-scoped ``integration`` field finds no integration at all.
    team_scoped: bool = True
    #: Filled in by the destination validator.
    destination: Destination | None = None

    @property
    def current(self) -> bool:
        return self.profile == "current"

    @property
    def model(self) -> str | None:
        """The export's model: the stored one on update (it cannot change in ``current``)."""
        if self.instance is not None and (self.current or "model" not in self.data):
            return self.instance.model
        return self.data.get("model", "events")  # type: ignore[no-any-return]

    @property
    def effective_interval(self) -> str | None:
        if "interval" in self.data:
            interval: str | None = self.data["interval"]  # validated: a choice, or null
            return interval
        return self.instance.interval if self.instance else None


class BatchExports:
    """The batch-export rules over one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: Called as ``start_backfill(export, start, end)`` when unpause asks for one;
        #: the backfill service plugs itself in here.
        self.start_backfill: Callable[[BatchExport, datetime | None, datetime | None], object] | None = None
        #: Called with an export after every change to it (the scheduler re-plans its runs).
        self.listeners: list[Callable[[BatchExport], None]] = []

    def _changed(self, export: BatchExport) -> None:
        for listener in self.listeners:
            listener(export)

    # -- reads -----------------------------------------------------------------------

    def page_for_teams(self, team_ids: list[int], *, offset: int, limit: int | None) -> tuple[int, list[BatchExport]]:
        """``(count, one page)`` of the teams' visible exports, newest first, in O(page) for one team.

        Visible: neither deleted nor Workflows exports (which PostHog leaves out of lists).

        Exports are kept in creation order, which is ``created_at`` order (the clock never
        goes back), so newest first is the list read backwards.
        """
        exports, listed = self.store.batch_exports, self.store.listed_exports
        lists = [listed.get(team_id, []) for team_id in team_ids]
        count = sum(len(ids) for ids in lists)
        stop = count if limit is None else min(count, offset + limit)
        if len(lists) == 1:
            ids = lists[0]
            chosen = ids[len(ids) - stop : len(ids) - offset] if stop > offset else []
            return count, [exports[i] for i in reversed(chosen)]
        newest_first = heapq.merge(
            *([exports[i] for i in reversed(ids)] for ids in lists),
            key=lambda e: e.seq,
            reverse=True,
        )
        return count, list(itertools.islice(newest_first, offset, stop))

    def profile_of(self, export: BatchExport) -> str:
        """The profile of PostHog's API (``docs``/``current``) the export's project gets."""
        return self.store.profile_of_team(export.team_id)

    def latest_runs(self, export: BatchExport) -> list[Run]:
        """``latest_runs``: the export's newest :data:`LATEST_RUNS` runs, any status, backfill runs included.

        Runs are kept in creation order, so the newest are the last ones.
        """
        runs = self.store.runs
        return [runs[i] for i in reversed(self.store.runs_by_export.get(export.id, [])[-LATEST_RUNS:])]

    def home_team(self, team: Team | None, organization: Organization | None, export: BatchExport | None) -> Team:
        """The team a write lands in: the URL's, else the export's, else (an organization-level
        create) the organization's first project. PostHog has no team there and fails with a 500."""
        if team is not None:
            return team
        if export is not None:
            return self.store.teams[export.team_id]
        assert organization is not None, "a write names a project or an organization"
        return self.store.teams[organization.team_ids[0]]

    def get(self, team_ids: list[int], export_id: str) -> BatchExport:
        """A non-deleted export of one of ``team_ids`` (Workflows ones included), else 404."""
        export = self.store.batch_exports.get(export_id)
        if export is None:
            try:
                # Django's UUIDField reads any spelling uuid.UUID accepts (upper case, no dashes…).
                canonical = str(uuid.UUID(export_id))
            except ValueError:
                raise NotFound() from None
            export = self.store.batch_exports.get(canonical)
        if export is None or export.deleted or export.team_id not in team_ids:
            raise NotFound()
        return export

    # -- writes ----------------------------------------------------------------------

    def create(
        self, team: Team, data: Mapping[str, Any], field_errors: FieldErrors, *, team_scoped: bool = True
    ) -> BatchExport:
        """``team_scoped``: false at an organization URL (see :class:`_Write`)."""
        write = self._checked(team, data, None, False, team_scoped, field_errors)
        data = write.data
        now = self.store.clock.now()
        assert write.destination is not None  # required field: validated above
        destinations.check_schedulable(write.destination.type, write.destination.config)
        if write.current:
            dest = write.destination
            write.destination = replace(dest, config=destinations.with_parquet_default(dest.type, dest.config))
        export = BatchExport(
            id=str(self.store.ids.uuidt(now)),
            team_id=team.id,
            name=data["name"].strip(),
            model=data.get("model", "events"),
            destination=write.destination,
            interval=data["interval"],
            paused=bool(data.get("paused", False)),
            created_at=now,
            last_updated_at=now,
            seq=self.store.ids.next_int("export"),
        )
        self._apply(export, write)
        self.store.add_export(export)
        self._changed(export)
        return export

    def update(
        self,
        export: BatchExport,
        team: Team,
        data: Mapping[str, Any],
        field_errors: FieldErrors,
        *,
        partial: bool,
        team_scoped: bool = True,
    ) -> BatchExport:
        write = self._checked(team, data, export, partial, team_scoped, field_errors)
        data = write.data
        if write.destination is not None:
            destinations.check_schedulable(write.destination.type, write.destination.config)
        for key in ("name", "model", "interval", "paused"):
            if key in data:
                setattr(export, key, data[key].strip() if key == "name" else data[key])
        if write.destination is not None:
            export.destination = write.destination
        self._apply(export, write)
        export.last_updated_at = self.store.clock.now()
        self._changed(export)
        return export

    def validate_only(
        self,
        team: Team,
        data: Mapping[str, Any],
        field_errors: FieldErrors,
        *,
        instance: BatchExport | None,
        team_scoped: bool = True,
    ) -> Destination:
        """Validate a write without saving it (``run_test_step``); returns the effective destination.

        With an ``instance`` the request is partial and its destination config is merged
        over the stored one, as ``run_test_step`` does.
        """
        write = self._checked(team, data, instance, instance is not None, team_scoped, field_errors)
        if write.destination is not None:
            return write.destination
        assert instance is not None
        return instance.destination

    def run_test_step(
        self,
        team: Team,
        data: Mapping[str, Any],
        field_errors: FieldErrors,
        *,
        instance: BatchExport | None,
        team_scoped: bool = True,
    ) -> tuple[str, str]:
        """``run_test_step(_new)``: validate the write, then name the step ``data["step"]`` runs.

        PostHog pops ``step`` (default 0) from the body, validates the rest as a create
        (``instance=None``) or as a partial update of ``instance``, then runs the step: the
        body's errors come first, then the step's.
        """
        errors = {k: v for k, v in field_errors.items() if k != "step"}
        destination = self.validate_only(team, data, errors, instance=instance, team_scoped=team_scoped)
        if "step" in field_errors:
            raise field_errors["step"]
        return connectivity.step(destination.type, data.get("step", 0))

    def delete(self, export: BatchExport) -> None:
        """Soft delete. The scheduler, told through :attr:`listeners`, stops the schedule and
        cancels the export's *Running* runs and backfills (``delete_batch_export``)."""
        export.deleted = True
        self.store.unlist_export(export)
        self._changed(export)

    def pause(self, export: BatchExport) -> None:
        """Idempotent: pausing a paused export changes nothing, timestamps included."""
        if export.paused:
            return
        now = self.store.clock.now()
        export.paused, export.last_paused_at, export.last_updated_at = True, now, now
        self._changed(export)

    def unpause(self, export: BatchExport, backfill: Any = False) -> None:
        """Idempotent; keeps ``last_paused_at``.

        ``backfill`` is PostHog's raw ``request.data.get("backfill", False)``, tested with
        ``is False``: any value but JSON ``false`` (``"false"`` and ``0`` included) backfills
        the paused span, from ``last_paused_at`` to the new ``last_updated_at``.
        """
        if not export.paused:
            return
        now = self.store.clock.now()
        export.paused, export.last_updated_at = False, now
        self._changed(export)
        if backfill is not False and self.start_backfill is not None:
            self.start_backfill(export, export.last_paused_at, now)

    # -- validation ------------------------------------------------------------------

    def _checked(
        self,
        team: Team,
        data: Mapping[str, Any],
        instance: BatchExport | None,
        partial: bool,
        team_scoped: bool,
        field_errors: FieldErrors,
    ) -> _Write:
        """A write in the team's profile, read as its serializer reads it, and validated (or an error raised)."""
        profile = self.store.profile_of_team(team.id)
        write = _Write(team, _as_char_fields_read(data, profile), instance, partial, profile, team_scoped)
        self._validate(write, field_errors)
        return write

    def _validate(self, write: _Write, field_errors: FieldErrors) -> None:
        collected: list[APIError] = []
        for name in FIELD_ORDER:
            if name in CURRENT_ONLY_FIELDS and not write.current:
                continue
            if name in field_errors:
                collected.append(field_errors[name])
            elif name in write.data and name in _FIELD_VALIDATORS:
                try:
                    _FIELD_VALIDATORS[name](self, write)
                except ValidationError as error:
                    collected.append(error)
        if collected:
            raise collected[0]
        self._validate_object(write)

    def _validate_destination(self, write: _Write) -> None:
        data = write.data["destination"]
        dest_type: str = data["type"]
        sent_integration = "integration" in data or "integration_id" in data
        integration_id = self._resolve_integration(write)
        if dest_type == "S3":
            # PostHog's service has no "S3" inputs class, so its generic config check would
            # fail with a 500 (KeyError) before the deprecation message: skip that check.
            config: dict[str, Any] = data["config"]
        else:
            config = destinations.check_config(dest_type, data["config"], partial=write.partial)
        current = write.instance.destination if write.instance else None
        if current is not None and current.type != dest_type:
            raise ValidationError(
                f"Cannot change destination type from '{current.type}' to '{dest_type}'. "
                "Delete this batch export and create a new one with the new destination type.",
                attr="destination",
            )
        if dest_type == "S3":
            raise ValidationError(
                "The 'S3' destination type is deprecated and can no longer be used. "
                "Use 'AwsS3' for AWS S3, or 'S3Compatible' for S3-compatible storage.",
                attr="destination",
            )
        if (
            write.current
            and config.get("legacy_parquet_extension") is True
            and not destinations.uses_legacy_parquet_extension(dest_type, current.config if current else {})
        ):
            raise ValidationError(destinations.LEGACY_PARQUET_MESSAGE, attr="destination")
        # The rules see the integration the request sent; only the S3 family falls back to
        # the export's current one. What is stored falls back for every type (``update()``).
        checked_integration = integration_id
        if current is not None:
            config = destinations.merge_config(current.config, config)
            if not sent_integration:
                integration_id = current.integration_id
                if dest_type in ("AwsS3", "S3Compatible"):
                    checked_integration = current.integration_id
        integrations = self.store.integrations
        kind = integrations[checked_integration].kind if checked_integration is not None else None

        def team_integration_kind(integration_id: Any) -> str | None:
            integration = integrations.get(integration_id)
            return integration.kind if integration is not None and integration.team_id == write.team.id else None

        destinations.check_destination(
            dest_type,
            config,
            kind,
            creating=write.instance is None,
            had_integration=current is not None and current.integration_id is not None,
            feature_flags=write.team.feature_flags,
            existing_config=current.config if current is not None else None,
            team_integration_kind=team_integration_kind,
        )
        write.destination = Destination(dest_type, config, integration_id)

    def _resolve_integration(self, write: _Write) -> int | None:
        """``integration`` / ``integration_id``: team-scoped primary keys of one FK."""
        data = write.data["destination"]
        resolved: int | None = None
        for key in ("integration", "integration_id"):
            if key not in data:
                continue
            value = data[key]
            if value is None:
                resolved = None
                continue
            integration = self.store.integrations.get(value)
            if integration is None or integration.team_id != write.team.id or not write.team_scoped:
                raise ValidationError(
                    f'Invalid pk "{value}" - object does not exist.', code="does_not_exist", attr=f"destination__{key}"
                )
            resolved = value
        return resolved

    def _validate_name(self, write: _Write) -> None:
        """DRF's ``CharField`` trims whitespace first: a name of spaces is blank."""
        if not write.data["name"].strip():
            raise ValidationError("This field may not be blank.", code="blank", attr="name")
        check_characters(write.data["name"], "name")

    def _validate_interval(self, write: _Write) -> None:
        if write.data["interval"] in HIGH_FREQUENCY_INTERVALS and (
            "high-frequency-batch-exports" not in write.team.feature_flags
        ):
            raise PermissionDenied("Higher frequency batch exports are not enabled for this team.")

    def _validate_datetime(self, write: _Write, name: str) -> None:
        value = write.data[name]
        if value is not None and parse_datetime(value) is None:  # pragma: no cover - caught structurally
            raise ValidationError("Datetime has wrong format.", code="invalid", attr=name)

    def _validate_hogql(self, write: _Write) -> None:
        query = write.data["hogql_query"]
        if write.current:
            # A plain CharField there (trimmed, not blank); the query itself is read in
            # validate(), after the check of which model takes it (_validate_current).
            if query is not None and not query:
                raise ValidationError("This field may not be blank.", code="blank", attr="hogql_query")
            if query is not None:
                check_characters(query, "hogql_query")
            return
        compile_query(query)

    def _validate_key_columns(self, write: _Write, name: str) -> None:
        """``current``'s ``primary_key``/``version_key``: lists of trimmed, non-blank column names."""
        for index, column in enumerate(write.data[name] or ()):
            if isinstance(column, str) and not column:
                raise ValidationError("This field may not be blank.", code="blank", attr=f"{name}__{index}")

    def _validate_model(self, write: _Write) -> None:
        """``current``: the ``hogql`` model needs its flag, and a model never changes."""
        if not write.current:
            return
        model = write.data["model"]
        if model == "hogql" and "hogql-batch-exports" not in write.team.feature_flags:
            raise PermissionDenied("HogQL batch exports are not enabled for this team.")
        if write.instance is not None and model != write.instance.model:
            raise ValidationError("Changing models is not supported. Create a new batch export instead.", attr="model")

    def _validate_current(self, write: _Write) -> None:
        """``current``'s ``validate()``: which fields each model takes, and the ``hogql`` model's query."""
        data, model, instance = write.data, write.model, write.instance
        exports = self.store.batch_exports
        grandfathered = any(
            exports[i].schema is not None for i in self.store.exports_by_team.get(write.team.id, [])
        )  # teams with a query on an events export keep that feature
        only_for = [("filters", "events"), ("hogql_modifiers", "hogql"), ("primary_key", "hogql"),
                    ("version_key", "hogql")]  # fmt: skip
        if not (model == "events" and grandfathered):
            only_for.append(("hogql_query", "hogql"))
        for name, wanted in only_for:
            if data.get(name) is not None and model != wanted:
                raise ValidationError(f"'{name}' is only supported for '{wanted}' not '{model}' model", attr=name)
        if model != "hogql":
            if data.get("hogql_query") is not None:
                compile_query(data["hogql_query"])  # a grandfathered events export's query
            return
        query = data.get("hogql_query", instance.hogql_query if instance is not None else None)
        if query is None:
            raise ValidationError("'hogql_query' is required when 'model' is 'hogql'", attr="hogql_query")
        columns = self._hogql_columns(query)
        mode = data.get("incremental_mode", instance.incremental_mode if instance is not None else "APPEND")
        primary_key = set(data.get("primary_key", instance.primary_key if instance is not None else None) or ())
        if not primary_key and mode == "MERGE":
            raise ValidationError("'primary_key' is required when 'incremental_mode' is 'MERGE'", attr="primary_key")
        version_key = set(data.get("version_key", instance.version_key if instance is not None else None) or ())
        for name, keys in (("primary_key", primary_key), ("version_key", version_key)):
            missing = sorted(keys - columns)
            if missing:
                raise ValidationError(
                    f"'{name}' contains columns that are not present in the query: {','.join(missing)}", attr=name
                )

    @staticmethod
    def _hogql_columns(query: str) -> set[str]:
        """The output columns of a ``hogql`` model's query (its run-interval placeholders allowed).

        ``parse_hogql_select_for_batch_export``: other placeholders are refused by name, and
        every column must be a field or have an alias (it names a column of the destination).
        """
        for placeholder in re.findall(r"\{\s*([A-Za-z_]\w*)\s*\}", query):
            if "{" + placeholder + "}" in HOGQL_PLACEHOLDERS:
                continue
            only = f"Only {' and '.join(HOGQL_PLACEHOLDERS)} are supported in batch export queries"
            if placeholder == "filters":  # HogQL's own placeholder, which batch exports do not fill
                raise ValidationError(f"Unsupported placeholder. {only}", attr="hogql_query")
            raise ValidationError(f"Unknown placeholder '{{{placeholder}}}'. {only}", attr="hogql_query")
        for placeholder in HOGQL_PLACEHOLDERS:
            query = query.replace(placeholder, "now()")
        try:
            schema = compile_query(query, named_columns=True)
        except ValidationError as error:
            raise ValidationError(error.detail, attr="hogql_query") from None
        return {field["alias"] for field in schema["fields"]}

    def _validate_filters(self, write: _Write) -> None:
        filters = write.data["filters"]
        if filters is None:
            return
        if not isinstance(filters, list):
            raise ValidationError("'filters' should be an array of filters", attr="filters")
        for item in filters:
            if not isinstance(item, dict):
                raise ValidationError("Each filter must be an object", attr="filters")
            if "data_interval_start" in item or "data_interval_end" in item:
                raise ValidationError(
                    "'data_interval_start' and 'data_interval_end' are run attributes and not 'filters'. "
                    "Trigger a backfill if you wish to manually control which periods to batch export.",
                    attr="filters",
                )
            if item.get("type") not in _FILTER_TYPES:
                raise ValidationError(
                    "Each filter must have a 'type' of one of: 'event', 'hogql', 'person'", attr="filters"
                )

    def _validate_offset_day(self, write: _Write) -> None:
        if write.data["offset_day"] is not None and write.effective_interval != "week":
            raise ValidationError("offset_day is not applicable for non-weekly intervals", attr="offset_day")

    def _validate_offset_hour(self, write: _Write) -> None:
        if write.data["offset_hour"] is not None and write.effective_interval not in ("day", "week"):
            raise ValidationError("offset_hour is not applicable for non-daily/weekly intervals", attr="offset_hour")

    def _validate_object(self, write: _Write) -> None:
        """Serializer-level ``validate()``: errors here have ``attr: null``."""
        data = write.data
        dest_type = write.destination.type if write.destination else None
        if write.current:
            if dest_type == "HTTP" and write.model != "events":
                raise ValidationError("HTTP batch exports only support the events model")
            self._validate_current(write)
            if data.get("interval") == "day" and data.get("offset_day") is not None:
                raise ValidationError("offset_day should not be specified for daily intervals", attr="offset_day")
            return
        if dest_type == "HTTP" and data.get("model", "events") not in ("events", None):
            raise ValidationError("HTTP batch exports only support the events model")
        if data.get("interval") == "day" and data.get("offset_day") is not None:
            raise ValidationError("offset_day should not be specified for daily intervals")

    def _apply(self, export: BatchExport, write: _Write) -> None:
        """Copy the validated optional fields onto ``export`` (create and update alike)."""
        data = write.data
        for name in ("last_paused_at", "start_at", "end_at"):
            if name in data:
                setattr(export, name, parse_datetime(data[name]) if data[name] is not None else None)
        if "filters" in data:
            export.filters = data["filters"]
        if "timezone" in data:
            export.timezone = data["timezone"] or "UTC"
        if write.current and write.model == "hogql":
            if "hogql_query" in data:
                export.hogql_query = data["hogql_query"]  # run by the export as written, no events schema
        elif data.get("hogql_query"):
            export.hogql_query = data["hogql_query"]
            export.schema = compile_query(data["hogql_query"])
        elif write.current and "hogql_query" in data:  # null: ``current`` clears the query and its schema
            export.hogql_query = export.schema = None
        if write.current:
            for name in ("hogql_modifiers", "primary_key", "version_key", "incremental_mode"):
                if name in data:
                    setattr(export, name, data[name])
            if isinstance(export.hogql_modifiers, dict):
                # ``model_dump(exclude_none=True)``: a modifier set to null is no modifier.
                export.hogql_modifiers = {k: v for k, v in export.hogql_modifiers.items() if v is not None}
        export.interval_offset = _interval_offset(export, write)


def _interval_offset(export: BatchExport, write: _Write) -> int | None:
    """``validate()``'s offset conversion (PostHog runs it only when ``interval`` is sent).

    When a PATCH sends offsets without ``interval`` PostHog fails with a 500 (the
    virtual fields have no setter); the fake applies them against the stored interval.
    """
    data = write.data
    has_day, has_hour = "offset_day" in data, "offset_hour" in data
    if "interval" not in data and not (has_day or has_hour):
        return export.interval_offset
    interval = export.interval
    if interval == "day":
        if has_hour:
            return data["offset_hour"] * 3600 if data["offset_hour"] is not None else None
        return export.interval_offset if write.partial else None
    if interval == "week":
        if has_day or has_hour:
            day = data.get("offset_day") if has_day else (export.offset_day if "interval" not in data else None)
            hour = data.get("offset_hour") if has_hour else (export.offset_hour if "interval" not in data else None)
            return (day or 0) * 86400 + (hour or 0) * 3600
        return export.interval_offset if write.partial else None
    return None


_FIELD_VALIDATORS: dict[str, Callable[[BatchExports, _Write], None]] = {
    "name": BatchExports._validate_name,
    "model": BatchExports._validate_model,
    "destination": BatchExports._validate_destination,
    "interval": BatchExports._validate_interval,
    "last_paused_at": lambda self, w: self._validate_datetime(w, "last_paused_at"),
    "start_at": lambda self, w: self._validate_datetime(w, "start_at"),
    "end_at": lambda self, w: self._validate_datetime(w, "end_at"),
    "hogql_query": BatchExports._validate_hogql,
    "primary_key": lambda self, w: self._validate_key_columns(w, "primary_key"),
    "version_key": lambda self, w: self._validate_key_columns(w, "version_key"),
    "filters": BatchExports._validate_filters,
    "offset_day": BatchExports._validate_offset_day,
    "offset_hour": BatchExports._validate_offset_hour,
}


def _as_char_fields_read(data: Mapping[str, Any], profile: str) -> Mapping[str, Any]:
    """``current``'s serializer reads ``hogql_query`` and the key columns with DRF's ``CharField``,
    which trims surrounding whitespace: the rest of validation sees them trimmed, and so does the store."""
    if profile != "current":
        return data
    trimmed = dict(data)
    if isinstance(data.get("hogql_query"), str):
        trimmed["hogql_query"] = data["hogql_query"].strip()
    for name in ("primary_key", "version_key"):
        if isinstance(data.get(name), list):
            trimmed[name] = [c.strip() if isinstance(c, str) else c for c in data[name]]
    return trimmed
