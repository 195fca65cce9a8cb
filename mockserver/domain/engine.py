"""The scheduler: what PostHog's Temporal workers would have done by the clock's ``now``.

Everything time-driven happens here, as events on the virtual clock processed strictly
in time order (ties in the order they were planned):

* ``fire``: an export's schedule fires → a ``Starting`` run for the interval that just
  closed, and the next fire is planned;
* ``start``: ``Starting`` → ``Running``, :attr:`Progression.start_after` later;
* ``finish``: ``Running`` → ``Completed`` (or the next planned :class:`Outcome`),
  :attr:`Progression.finish_after` later;
* ``backfill``: a backfill starts its next interval's run after the previous one ended.

:meth:`Engine.catch_up` runs every due event; it is called on every clock advance and at
the start of every request, so a real or accelerated clock needs no background thread.
Timestamps are those of the events, not of the moment someone looked.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mockserver.domain import outcomes
from mockserver.domain.destinations import failure_error
from mockserver.domain.lifecycle import ACTIVE, BACKFILL_TRANSITIONS, ERRORED, Outcome, transition
from mockserver.domain.models import Backfill, BatchExport, LogEntry, Run
from mockserver.domain.schedule import interval_delta, next_fire
from mockserver.domain.store import Store
from mockserver.errors import ValidationError

__all__ = ["ADVANCE_BATCH", "Engine"]

#: Events a clock advance processes per hold of the store's lock (a few milliseconds' work).
ADVANCE_BATCH = 200


class Engine:
    """Time-driven behaviour over one :class:`Store` (the state itself lives in the store)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._busy = False
        #: Handlers of the events other services plan (``plan(at, kind, object_id)``) by kind:
        #: file downloads free expired files this way.
        self.event_handlers: dict[str, Callable[[datetime, str, int], None]] = {}
        #: Called with a run when it reaches an ending (file downloads write their files here).
        self.on_run_finished: list[Callable[[Run, datetime], None]] = []
        store.clock.listeners.append(self.catch_up)
        store.clock.pacers.append(self._pace)
        #: Called between the steps of a long clock jump, outside the lock (``serve``
        #: freezes the heap there, so that garbage collection does not pause it at length).
        self.between_steps: list[Callable[[], None]] = []

    # -- the event queue -------------------------------------------------------------

    def plan(self, at: datetime, kind: str, object_id: str, version: int = 0) -> None:
        store = self.store
        store.event_seq += 1
        heapq.heappush(store.events, (at, store.event_seq, kind, object_id, version))

    def catch_up(self, now: datetime | None = None) -> None:
        """Process every event due at or before ``now`` (default: the clock's now)."""
        with self.store.lock:  # taken even when nothing is due: a holder may be planning something
            now = now or self.store.clock.now()
            if self.due(now):
                self._run_due(now, None)

    def due(self, now: datetime) -> bool:
        """Whether an event is due at ``now``: a look at the queue's head, without the lock.

        Every request asks, and almost always nothing is due. The queue changes only in
        ``heapq`` calls, each whole under the interpreter's lock, so the head read here is
        never half-written: at worst it is a moment old. :meth:`catch_up_in_steps` looks
        without the lock, and the request then calls :meth:`catch_up`, which looks again
        under it.
        """
        try:
            return self.store.events[0][0] <= now
        except IndexError:
            return False

    def catch_up_in_steps(self) -> None:
        """:meth:`catch_up` in holds of the lock of at most :data:`ADVANCE_BATCH` events each.

        For a real or accelerated clock, which moves without anyone calling ``advance``:
        after a long idle spell, the work due is done before a request takes the lock for
        itself, in steps that let other requests in, as a jump of the clock does.
        """
        store = self.store
        while self.due(store.clock.now()):
            with store.lock:
                if self._run_due(store.clock.now(), ADVANCE_BATCH) is None:
                    return
            for hook in self.between_steps:
                hook()
            store.lock.yield_to_waiters()

    def _run_due(self, until: datetime, limit: int | None) -> datetime | None:
        """Process events due at or before ``until`` in time order, at most ``limit`` of them;
        return the time of the last one processed if some due ones are left."""
        store = self.store
        if self._busy:
            return None  # an event's own work moved the clock: the outer loop goes on
        self._busy = True
        try:
            done = 0
            at = until
            while store.events and store.events[0][0] <= until:
                if limit is not None and done >= limit:
                    return at
                at, _seq, kind, object_id, version = heapq.heappop(store.events)
                handler = _HANDLERS.get(kind)
                if handler is not None:
                    handler(self, at, object_id, version)
                else:
                    self.event_handlers[kind](at, object_id, version)
                done += 1
            return None
        finally:
            self._busy = False

    def _pace(self, target: datetime, stop_at: Callable[[datetime], None]) -> None:
        """The clock's pacer: a jump to ``target`` in steps of :data:`ADVANCE_BATCH` events.

        After each step the clock stands at the time of the last event processed and the
        store's lock is let go, so other requests get in (and see a consistent state as
        of that time) however many years the jump covers.
        """
        store = self.store
        while True:
            with store.lock:
                reached = self._run_due(target, ADVANCE_BATCH)
                if reached is None:
                    return
                stop_at(reached)
            for hook in self.between_steps:
                hook()
            store.lock.yield_to_waiters()  # requests queued meanwhile go first

    # -- schedules -------------------------------------------------------------------

    def export_changed(self, export: BatchExport) -> None:
        """Re-plan an export's schedule from now (create, update, pause, unpause, delete)."""
        store = self.store
        version = store.schedule_versions.get(export.id, 0) + 1
        store.schedule_versions[export.id] = version
        if export.deleted:
            self._cancel_for_delete(export, store.clock.now())
            return
        if export.paused:
            return
        fire = next_fire(export, store.clock.now())
        if fire is not None:
            self.plan(fire, "fire", export.id, version)

    def retire(self, organization_id: str) -> None:
        """Stop the clock's work for a tenant nobody uses any more (a finished test's, on a shared server).

        Its exports' schedules fire no more runs and its backfills start no more: a later
        advance of a shared clock costs what the tenants still in use ask for, not what
        every tenant of the session would. Runs already under way still end; every
        record stays readable. An unknown organization is a no-op.
        """
        store = self.store
        with store.lock:
            organization = store.organizations.get(organization_id)
            if organization is not None:
                store.retired_teams.update(organization.team_ids)

    def _cancel_for_delete(self, export: BatchExport, at: datetime) -> None:
        """``delete_batch_export``: cancel *Running* backfills, then *Running* runs (``Starting``
        ones are left to finish, as PostHog leaves them)."""
        store = self.store
        for backfill_id in store.backfills_by_export.get(export.id, ()):
            backfill = store.backfills[backfill_id]
            if backfill.status == "Running":
                transition(backfill, "Cancelled", at, BACKFILL_TRANSITIONS)
        for run_id in store.runs_by_export.get(export.id, ()):
            run = store.runs[run_id]
            if run.status == "Running":
                self.cancel_run(run, at)

    def _fire(self, at: datetime, export_id: str, version: int) -> None:
        store = self.store
        export = store.batch_exports.get(export_id)
        if export is None or store.schedule_versions.get(export_id) != version:
            return  # the schedule changed since this fire was planned
        if export.team_id in store.retired_teams:
            return  # and no next fire: the schedule ends here
        self.create_run(export, at - interval_delta(export.interval), at, at)
        fire = next_fire(export, at)
        if fire is not None:
            self.plan(fire, "fire", export.id, version)

    # -- runs ------------------------------------------------------------------------

    def create_run(
        self,
        export: BatchExport,
        start: datetime | None,
        end: datetime,
        at: datetime,
        *,
        backfill: Backfill | None = None,
    ) -> Run:
        """A ``Starting`` run of ``export`` for ``[start, end)``, created at ``at``."""
        store = self.store
        run = Run(
            id=str(store.ids.uuidt(at)),
            team_id=export.team_id,
            status="Starting",
            data_interval_start=start,
            data_interval_end=end,
            created_at=at,
            last_updated_at=at,
            batch_export_id=export.id,
            backfill_id=backfill.id if backfill else None,
        )
        self.add_run(run, at)
        return run

    def add_run(self, run: Run, at: datetime) -> None:
        """Register a new ``Starting`` run and plan its progression."""
        store = self.store
        store.add_run(run)
        self.log(run, at, "INFO", f"Batch export run {run.id} starting")
        self.plan(at + timedelta(seconds=store.progression.start_after), "start", run.id)

    def _start(self, at: datetime, run_id: str, _version: int) -> None:
        run = self.store.runs[run_id]
        if run.status != "Starting":
            return  # cancelled meanwhile
        transition(run, "Running", at)
        self.log(run, at, "INFO", "Batch export run is running")
        self.plan(at + timedelta(seconds=self.store.progression.finish_after), "finish", run.id)

    def _finish(self, at: datetime, run_id: str, _version: int) -> None:
        run = self.store.runs[run_id]
        if run.status != "Running":
            return
        self.finish(
            run, at, outcomes.next_outcome(self.store, run.batch_export_id or run.batch_export_on_demand_id or "")
        )

    def finish(self, run: Run, at: datetime, outcome: Outcome) -> None:
        """End a ``Running`` run at ``at`` as ``outcome`` says (fields, logs, listeners)."""
        store = self.store
        if outcome.status == "Running":
            return  # planned to hang until cancelled
        rnd = store.ids.random
        transition(run, outcome.status, at)
        run.finished_at = at
        error = outcome.latest_error
        if error is None and outcome.status in ERRORED:
            error = failure_error(self._destination_type(run))
        run.latest_error = error
        if outcome.status == "Completed":
            records = outcome.records_completed if outcome.records_completed is not None else rnd.randint(100, 50_000)
            run.records_completed = run.records_total_count = records
            run.records_failed = 0
            run.bytes_exported = records * rnd.randint(180, 420)
            self.log(run, at, "INFO", f"Batch export run finished successfully: {records} records exported")
        else:
            run.records_completed = outcome.records_completed if outcome.records_completed is not None else 0
            self.log(run, at, "ERROR", f"Batch export run failed: {error or outcome.status}")
        for listener in self.on_run_finished:
            listener(run, at)
        if run.backfill_id:
            _count_ended_run(store.backfills[run.backfill_id], run)
            self.plan(at, "backfill", run.backfill_id)

    def _destination_type(self, run: Run) -> str:
        """The type of the destination the run exports to (``FileDownload`` for a file download)."""
        store = self.store
        parent = store.batch_exports.get(run.batch_export_id or "") or store.on_demand_exports.get(
            run.batch_export_on_demand_id or ""
        )
        return parent.destination.type if parent is not None else "Unknown"

    def request_cancel(self, run: Run) -> None:
        """The API's cancel (runs and file downloads alike): 400 unless ``Starting``/``Running``."""
        if run.status not in ACTIVE:
            raise ValidationError(f"Cannot cancel a run that is in '{run.status}' status")
        self.cancel_run(run, self.store.clock.now())

    def cancel_run(self, run: Run, at: datetime) -> None:
        """``Starting``/``Running`` → ``Cancelled`` (``finished_at`` stays unset, as in PostHog's API path)."""
        transition(run, "Cancelled", at)
        self.log(run, at, "WARNING", "Batch export run was cancelled")
        if run.backfill_id:
            self.plan(at, "backfill", run.backfill_id)  # its backfill goes on with the next interval

    # -- backfills -------------------------------------------------------------------

    def start_backfill(self, backfill: Backfill, at: datetime) -> None:
        """Register a backfill; its runs follow one after another, one per interval."""
        self.store.add_backfill(backfill)
        self.plan(at, "backfill", backfill.id)

    def backfill_interval_count(self, backfill: Backfill) -> int | None:
        """How many runs ``backfill_range`` yields: one per whole step from the start to the end.

        A last range shorter than a step is not yielded (PostHog's ``backfill_range`` stops
        "as the built-in range" does), so a range shorter than one step makes no run at
        all. No start: one run. No end: ``None``, the backfill runs until it catches up.
        """
        if backfill.start_at is None:
            return 1
        if backfill.end_at is None:
            return None
        if backfill.start_at >= backfill.end_at:
            return 0
        return (backfill.end_at - backfill.start_at) // self._backfill_step(backfill)

    def backfill_interval(self, backfill: Backfill, index: int, at: datetime) -> tuple[datetime | None, datetime]:
        """``backfill_range``'s interval number ``index``, computed on its own (never a list of all of them).

        Interval ``i`` is ``[start + i·step, start + (i+1)·step)``. Without a start, the one
        open run ``(None, end)``, or without an end either ``(None, at)`` with ``at``
        rounded down to a multiple of the step since the epoch, as PostHog rounds now.
        (With a zone-aware start, a daily or weekly step is a local day or week.)
        """
        step = self._backfill_step(backfill)
        if backfill.start_at is None:
            if backfill.end_at is not None:
                return None, backfill.end_at
            seconds = step.total_seconds()
            return None, at - timedelta(seconds=at.timestamp() % seconds)
        start = backfill.start_at + step * index
        return start, start + step

    def _backfill_step(self, backfill: Backfill) -> timedelta:
        return interval_delta(self.store.batch_exports[backfill.batch_export_id].interval)

    def _backfill(self, at: datetime, backfill_id: str, _version: int) -> None:
        """The backfill's next step: start the next interval's run, or end the backfill.

        PostHog's ``backfill_schedule`` starts each interval's run when the one before has
        ended, however it ended (a failed or cancelled run is logged, and the next interval
        follows), so the count of runs says which interval comes next. It fails when the
        export's schedule is gone (the export was deleted), and a backfill without an end
        stops, unpausing the export, at the first interval that ends at or after now.
        """
        store = self.store
        backfill = store.backfills[backfill_id]
        if backfill.status not in ACTIVE or backfill.team_id in store.retired_teams:
            return
        run_ids = store.runs_by_backfill.get(backfill.id, ())
        if run_ids and store.runs[run_ids[-1]].status in ACTIVE:
            return
        if backfill.status == "Starting":
            transition(backfill, "Running", at, BACKFILL_TRANSITIONS)
        export = store.batch_exports[backfill.batch_export_id]
        if export.deleted:
            self._end_backfill(backfill, "Failed", at)
            return
        count = self.backfill_interval_count(backfill)
        if count is not None and len(run_ids) >= count:
            self._end_backfill(backfill, "Completed", at)
            return
        try:
            start, end = self.backfill_interval(backfill, len(run_ids), at)
        except OverflowError:  # an interval past year 9999: later than any now
            start, end = None, datetime.max.replace(tzinfo=UTC)
        # Only a backfill with a start catches up: PostHog rounds now down for the one run
        # of an earliest backfill and checks "caught up" later, when now has moved on.
        if backfill.end_at is None and backfill.start_at is not None and end >= at:
            # Caught up with now: PostHog's ``unpause_batch_export``, then the backfill ends.
            if export.paused:
                export.paused, export.last_updated_at = False, at
                self.export_changed(export)
            self._end_backfill(backfill, "Completed", at)
            return
        self.create_run(export, start, end, at, backfill=backfill)

    def tally_backfills(self) -> None:
        """Count every backfill's finished runs and completed records again from its runs.

        The scheduler keeps these counts as runs end; a state saved before it kept them
        (``serve --state-file``) has its backfills' counts rebuilt here when loaded.
        """
        store = self.store
        with store.lock:
            for backfill in store.backfills.values():
                backfill.finished_runs, backfill.completed_records = 0, None
                for run_id in store.runs_by_backfill.get(backfill.id, ()):
                    _count_ended_run(backfill, store.runs[run_id])

    def _end_backfill(self, backfill: Backfill, status: str, at: datetime) -> None:
        """``update_batch_export_backfill_model`` with ``finished``: the status, ``finished_at`` and,
        counted from its completed runs, ``total_records_count`` (``None`` when none completed)."""
        transition(backfill, status, at, BACKFILL_TRANSITIONS)
        backfill.finished_at = at
        backfill.total_records_count = backfill.completed_records

    def cancel_backfill(self, backfill: Backfill, at: datetime) -> None:
        """Cancel the backfill, then every run of it that is still ``Starting``/``Running``."""
        transition(backfill, "Cancelled", at, BACKFILL_TRANSITIONS)
        store = self.store
        for run_id in store.runs_by_backfill.get(backfill.id, ()):
            run = store.runs[run_id]
            if run.status in ACTIVE:
                self.cancel_run(run, at)

    # -- logs ------------------------------------------------------------------------

    def log(self, run: Run, at: datetime, level: str, message: str) -> None:
        """A worker log line: ``log_source_id`` is the export (or on-demand export), ``instance_id`` the run."""
        source = run.batch_export_id or run.batch_export_on_demand_id or run.id
        self.store.add_log(LogEntry(run.team_id, source, run.id, at, level, message))


def _count_ended_run(backfill: Backfill, run: Run) -> None:
    """Add a run that ended to its backfill's counts: ``get_finished_runs`` counts ``Completed`` and
    ``Failed`` runs, and ``total_records_count`` the records of the completed ones."""
    if run.status in ("Completed", "Failed"):
        backfill.finished_runs += 1
    if run.status == "Completed":
        records = (run.records_completed or 0) + (run.records_failed or 0)
        backfill.completed_records = (backfill.completed_records or 0) + records


_HANDLERS: dict[str, Callable[[Engine, datetime, str, int], None]] = {
    "fire": Engine._fire,
    "start": Engine._start,
    "finish": Engine._finish,
    "backfill": Engine._backfill,
}
