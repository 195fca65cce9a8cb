"""Run and backfill lifecycles as data: who may move to what, and how fast.

::

    Starting ──► Running ──► Completed
        │           ├──────► Failed | FailedRetryable | FailedBilling | Terminated | TimedOut | ContinuedAsNew
        └───────────┴──────► Cancelled   (API cancel, backfill cancel, export delete)

:data:`RUN_TRANSITIONS` and :data:`BACKFILL_TRANSITIONS` are the only place these rules
live; :func:`transition` refuses anything else. :class:`Progression` says how long each
step takes on the virtual clock, and planned :class:`Outcome` s (``/_mock/outcomes/``)
say how the next runs of an export end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = [
    "ACTIVE",
    "BACKFILL_STATUSES",
    "BACKFILL_TRANSITIONS",
    "ENDINGS",
    "OUTCOME_STATUSES",
    "RUN_STATUSES",
    "RUN_TRANSITIONS",
    "TERMINAL_RUN_STATUSES",
    "IllegalTransition",
    "Outcome",
    "Progression",
    "transition",
]

RUN_STATUSES = (
    "Cancelled", "Completed", "ContinuedAsNew", "Failed", "FailedRetryable", "FailedBilling",
    "Terminated", "TimedOut", "Running", "Starting",
)  # fmt: skip
BACKFILL_STATUSES = tuple(s for s in RUN_STATUSES if s != "FailedBilling")

#: Statuses that can still change (and that cancel accepts).
ACTIVE = frozenset({"Starting", "Running"})

#: How a run that got to ``Running`` can end, other than by a cancel.
ENDINGS = ("Completed", "Failed", "FailedRetryable", "FailedBilling", "Terminated", "TimedOut", "ContinuedAsNew")
_ENDINGS = frozenset(ENDINGS)
#: Endings for which PostHog's workers record the exception that ended the run as its
#: ``latest_error``: a planned one that gives none gets a realistic error of its destination.
ERRORED = frozenset({"Failed", "FailedRetryable"})
#: What a planned :class:`Outcome` may say: an ending, or ``Running`` (the run never ends).
OUTCOME_STATUSES = (*ENDINGS, "Running")

RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    "Starting": frozenset({"Running", "Cancelled"}),
    "Running": _ENDINGS | {"Cancelled"},
    **{status: frozenset() for status in RUN_STATUSES if status not in ACTIVE},
}
BACKFILL_TRANSITIONS: dict[str, frozenset[str]] = {
    "Starting": frozenset({"Running", "Cancelled"}),
    "Running": (_ENDINGS - {"FailedBilling"}) | {"Cancelled"},
    **{status: frozenset() for status in BACKFILL_STATUSES if status not in ACTIVE},
}
TERMINAL_RUN_STATUSES = frozenset(s for s, targets in RUN_TRANSITIONS.items() if not targets)


class IllegalTransition(RuntimeError):
    """A state change the lifecycle table does not allow (a bug, never an API answer)."""


class _HasStatus(Protocol):
    status: str
    last_updated_at: datetime


def transition(obj: _HasStatus, to: str, now: datetime, table: dict[str, frozenset[str]] = RUN_TRANSITIONS) -> None:
    """Move ``obj`` to status ``to`` at ``now``, or raise :class:`IllegalTransition`."""
    if to not in table.get(obj.status, frozenset()):
        raise IllegalTransition(f"{type(obj).__name__} cannot go from {obj.status!r} to {to!r}")
    obj.status = to
    obj.last_updated_at = now


@dataclass(frozen=True)
class Progression:
    """Virtual seconds each lifecycle step takes (the default: Completed 3 minutes after start).

    Each is at most :data:`MAX_STEP_SECONDS` (a year): a step further off than the clock
    can reach would leave its run waiting for good.
    """

    #: Starting → Running.
    start_after: float = 30.0
    #: Running → its ending.
    finish_after: float = 150.0

    def __post_init__(self) -> None:
        for name in ("start_after", "finish_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_STEP_SECONDS:
                raise ValueError(f"{name} must be between 0 and {MAX_STEP_SECONDS:,} seconds, not {value!r}")


#: The longest a lifecycle step may take: a year of virtual time.
MAX_STEP_SECONDS = 365 * 86400


@dataclass(frozen=True)
class Outcome:
    """How a planned run ends.

    ``status`` is any ending of :data:`RUN_TRANSITIONS`, or ``"Running"`` for a run that
    never finishes (to test cancelling); ``latest_error`` is stored on the run (for
    ``Failed`` and ``FailedRetryable``, a realistic error of the run's destination when
    ``None``).
    """

    status: str
    latest_error: str | None = None
    records_completed: int | None = None

    def __post_init__(self) -> None:
        if self.status not in OUTCOME_STATUSES:
            raise ValueError(f"{self.status!r} is not a way a run can end (one of {', '.join(OUTCOME_STATUSES)})")
        if self.latest_error is not None and not isinstance(self.latest_error, str):
            raise ValueError(f"latest_error must be text, not {self.latest_error!r}")
        records = self.records_completed
        if records is not None and (isinstance(records, bool) or not isinstance(records, int) or records < 0):
            raise ValueError(f"records_completed must be a whole number of at least 0, not {records!r}")
