"""The one clock a fake reads. Nothing else in the project looks at the wall clock.

Three modes:

* **frozen** (the default, and what tests want): time moves only when someone calls
  :meth:`Clock.advance` or :meth:`Clock.set`;
* **real**: follows the wall clock from the moment the clock was made;
* **accelerated**: like real, but ``speed`` virtual seconds pass per wall second
  (``speed=60`` is an hour a minute), for a standalone mock people watch.

In the last two modes :meth:`advance` and :meth:`set` still work: they shift the
virtual timeline forward.

>>> from datetime import datetime, timezone
>>> clock = Clock.frozen(datetime(2026, 1, 1, tzinfo=timezone.utc))
>>> clock.advance(90).isoformat()
'2026-01-01T00:01:30+00:00'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["DEFAULT_EPOCH", "Clock", "ClockError", "wall_now", "wall_seconds"]

#: Where a frozen clock starts unless told otherwise: a fixed instant, so that two
#: fakes built with the same seed answer byte for byte the same.
DEFAULT_EPOCH = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


def wall_seconds() -> float:
    """Monotonic wall seconds, for timeouts that must hold whatever the virtual clock does."""
    return time.monotonic()


def wall_now() -> datetime:
    """The real time, for what must show it (an access log's timestamps), never for the fake's logic."""
    return datetime.now(UTC)


class ClockError(ValueError):
    """Raised when asked to move time backwards."""


#: The longest jump the control plane and scenarios make at once: a century (365-day
#: years). Every export makes its runs on the way, so a jump's work grows with its length;
#: ten centuries of hourly runs would not fit in memory. Python callers are not capped.
MAX_JUMP = timedelta(days=36500)


class Clock:
    """A virtual clock: ``now()`` is ``origin + speed × (wall elapsed) + shift``.

    Args:
        start: the virtual instant at creation (timezone-aware).
        speed: virtual seconds per wall second; ``0`` freezes time.
        monotonic: the wall-time source, injectable for tests of the clock itself.
    """

    def __init__(
        self,
        start: datetime = DEFAULT_EPOCH,
        *,
        speed: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ClockError("the clock needs a timezone-aware start")
        if speed < 0:
            raise ClockError("speed must be >= 0")
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._monotonic = monotonic
        self._wall0 = monotonic()
        self._shift = 0.0
        self._lock = threading.Lock()
        #: One :meth:`advance` at a time: two jumps of 1 h end 2 h later, however they interleave.
        #: The pacers take the store's lock while it is held, so a thread must not hold the
        #: store's lock while it waits to advance (the HTTP layer advances outside it).
        self._advancing = threading.RLock()
        #: Called with the new ``now`` after every :meth:`advance` / :meth:`set`
        #: (the scheduler hooks in here).
        self.listeners: list[Callable[[datetime], None]] = []
        #: Move a long jump forward in short steps (the scheduler adds one): each is called
        #: with the target and a function that moves the clock to an instant on the way,
        #: and does the work due at each stop before moving on, so that no step takes long
        #: and whoever looks meanwhile sees the clock where the work has got to.
        self.pacers: list[Callable[[datetime, Callable[[datetime], None]], None]] = []

    @classmethod
    def frozen(cls, start: datetime = DEFAULT_EPOCH) -> Clock:
        return cls(start, speed=0.0)

    @classmethod
    def real(cls, start: datetime | None = None, *, speed: float = 1.0) -> Clock:
        """A clock that runs (``speed`` × wall time), starting at ``start`` or the wall clock."""
        return cls(start or datetime.now(UTC), speed=speed)

    @property
    def mode(self) -> str:
        if self._speed == 0:
            return "frozen"
        return "real" if self._speed == 1 else "accelerated"

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        """The current virtual time (UTC, timezone-aware)."""
        elapsed = (self._monotonic() - self._wall0) * self._speed if self._speed else 0.0
        return self._start + timedelta(seconds=elapsed + self._shift)

    def advance(self, seconds: float) -> datetime:
        """Move virtual time forward by ``seconds`` and return the new now."""
        if seconds < 0:
            raise ClockError("the clock never moves backwards")
        with self._advancing:
            try:
                # Computed before committing: an instant past year 9999 leaves the clock as it was.
                target = self.now() + timedelta(seconds=seconds)
            except OverflowError:
                raise ClockError("the clock cannot go past the year 9999") from None
            shift = self._shift + seconds
            for pacer in list(self.pacers):
                pacer(target, self._stop_at)
            with self._lock:
                self._shift = shift  # exactly where one jump would have put it
            for listener in list(self.listeners):
                listener(target)
            return target

    def _stop_at(self, when: datetime) -> None:
        """Move the clock forward to ``when`` (a stop on the way of :meth:`advance`)."""
        with self._lock:
            ahead = (when - self.now()).total_seconds()
            if ahead > 0:
                self._shift += ahead

    def set(self, when: datetime) -> datetime:
        """Jump to ``when``; it must not be earlier than now."""
        if when.tzinfo is None:
            raise ClockError("the clock needs a timezone-aware datetime")
        delta = (when - self.now()).total_seconds()
        if delta < 0:
            raise ClockError("the clock never moves backwards")
        return self.advance(delta)
