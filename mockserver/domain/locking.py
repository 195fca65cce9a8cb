"""The store's lock: re-entrant, and aware of whether anyone is waiting for it.

Long work (a clock jump of years) runs in short holds of the lock. Letting go between
two holds is not enough for a request waiting meanwhile to get in: the thread doing the
work still holds the interpreter and takes the lock back at once. :attr:`StoreLock.waiting`
lets it see that someone is queued and step aside until they have their turn
(:meth:`StoreLock.yield_to_waiters`).

>>> lock = StoreLock()
>>> with lock:
...     with lock:  # re-entrant
...         lock.waiting
0
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

__all__ = ["StoreLock"]

#: How long :meth:`StoreLock.yield_to_waiters` naps between two looks at the queue.
_NAP = 0.0001


class StoreLock:
    """A ``threading.RLock`` that counts the threads blocked on it."""

    __slots__ = ("_count", "_lock", "waiting")

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._count = threading.Lock()
        #: Threads blocked in :meth:`acquire` right now.
        self.waiting = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(False):  # the usual case: free, or already ours
            return True
        if not blocking:
            return False
        with self._count:
            self.waiting += 1
        try:
            return self._lock.acquire(True, timeout)
        finally:
            with self._count:
                self.waiting -= 1

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._lock.release()

    def _is_owned(self) -> bool:
        """Whether the calling thread holds it (as ``RLock._is_owned``)."""
        return self._lock._is_owned()  # type: ignore[attr-defined,no-any-return]

    def yield_to_waiters(self, patience: float = 0.05) -> None:
        """Called without holding the lock: wait (up to ``patience`` seconds) until every
        thread queued for it has had it, so that a long job taking turns lets them in."""
        if self._is_owned():
            return  # held further out (a caller's own ``with store.lock``): nobody can get in
        for _ in range(max(1, int(patience / _NAP))):
            if not self.waiting:
                return
            time.sleep(_NAP)
