"""Planned outcomes: decide how the next runs of an export, or a team's next file downloads, end.

Runs of an export finish in order; each one that finishes takes the next planned
:class:`~mockserver.domain.lifecycle.Outcome` (scheduled, backfill and retry runs
alike), and once the queue is empty runs complete normally. A file download is planned
when it is created: it takes the team's next planned file-download outcome.

This module owns the two queues, ``store.planned_outcomes`` (per export or on-demand
export) and ``store.file_download_outcomes`` (per team): nothing else writes them, and
``store.reset()`` forgets them.

>>> from mockserver.domain.store import Store
>>> store = Store()
>>> plan_outcomes(store, "018f0000-0000-7000-8000-000000000000", [Outcome("Failed")])
Traceback (most recent call last):
...
mockserver.errors.ValidationError: Invalid pk "018f0000-0000-7000-8000-000000000000" - object does not exist.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from mockserver.domain.lifecycle import OUTCOME_STATUSES, Outcome
from mockserver.domain.store import Store
from mockserver.errors import ValidationError

__all__ = [
    "OUTCOME_STATUSES",
    "Outcome",
    "clear_file_downloads",
    "clear_outcomes",
    "next_file_download_outcome",
    "next_outcome",
    "plan_file_downloads",
    "plan_outcomes",
    "planned_file_downloads",
    "planned_outcomes",
    "replace_outcomes",
]


def plan_outcomes(store: Store, export_id: str, outcomes: Iterable[Outcome]) -> list[Outcome]:
    """Append ``outcomes`` to the export's queue; returns the whole queue.

    Raises:
        ValidationError: the export does not exist or was deleted (``attr`` ``batch_export_id``,
            DRF's message for an unknown primary key).
    """
    with store.lock:
        export = store.batch_exports.get(export_id)
        if export is None or export.deleted:
            raise ValidationError(
                f'Invalid pk "{export_id}" - object does not exist.', code="does_not_exist", attr="batch_export_id"
            )
        queue = store.planned_outcomes.setdefault(export_id, deque())
        queue.extend(outcomes)
        return list(queue)


def planned_outcomes(store: Store, export_id: str) -> list[Outcome]:
    """The outcomes still waiting for a run of the export, next first (empty if none)."""
    with store.lock:
        return list(store.planned_outcomes.get(export_id, ()))


def clear_outcomes(store: Store, export_id: str | None = None) -> None:
    """Forget the planned outcomes of one export, or of every export."""
    with store.lock:
        if export_id is None:
            store.planned_outcomes.clear()
        else:
            store.planned_outcomes.pop(export_id, None)


def replace_outcomes(store: Store, export_id: str, outcomes: Iterable[Outcome]) -> None:
    """Make ``outcomes`` the whole queue of an export or on-demand export (unchecked)."""
    with store.lock:
        store.planned_outcomes[export_id] = deque(outcomes)


def next_outcome(store: Store, export_id: str) -> Outcome:
    """Take the next planned outcome of an export's run; ``Completed`` when none is planned."""
    with store.lock:
        queue = store.planned_outcomes.get(export_id)
        return queue.popleft() if queue else Outcome("Completed")


def plan_file_downloads(store: Store, team_id: int, outcomes: Iterable[Outcome]) -> list[Outcome]:
    """The team's next file downloads end as ``outcomes``, in order; returns the whole queue.

    Raises:
        ValidationError: no such project (``attr`` ``project_id``).
    """
    with store.lock:
        if team_id not in store.teams:
            raise ValidationError(
                f'Invalid pk "{team_id}" - object does not exist.', code="does_not_exist", attr="project_id"
            )
        queue = store.file_download_outcomes.setdefault(team_id, deque())
        queue.extend(outcomes)
        return list(queue)


def planned_file_downloads(store: Store, team_id: int) -> list[Outcome]:
    """The outcomes still waiting for the team's next file downloads, next first (empty if none)."""
    with store.lock:
        return list(store.file_download_outcomes.get(team_id, ()))


def clear_file_downloads(store: Store, team_id: int | None = None) -> None:
    """Forget the planned file-download outcomes of one team, or of every team."""
    with store.lock:
        if team_id is None:
            store.file_download_outcomes.clear()
        else:
            store.file_download_outcomes.pop(team_id, None)


def next_file_download_outcome(store: Store, team_id: int) -> Outcome | None:
    """Take the team's next planned file-download outcome, if any."""
    with store.lock:
        queue = store.file_download_outcomes.get(team_id)
        return queue.popleft() if queue else None
