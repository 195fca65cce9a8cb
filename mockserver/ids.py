"""Seedable identifiers: every id and random value the fake hands out comes from here.

One :class:`IdSource` per fake. The same seed and the same sequence of calls give the
same ids, so a test run can be replayed byte for byte.

PostHog's primary keys are ``UUIDT``: 48 bits of Unix milliseconds, then random bits,
so they sort by creation time. :meth:`IdSource.uuidt` keeps that property using the
injected clock instead of the wall clock.
"""

from __future__ import annotations

import random
import string
import threading
import uuid
from datetime import datetime
from typing import Any

__all__ = ["IdSource"]

_KEY_ALPHABET = string.ascii_letters + string.digits


class IdSource:
    """Deterministic ids from a seeded PRNG (``random.Random``, not ``uuid4``)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        #: How many times :meth:`reseed` ran: it marks the secrets drawn after each reset.
        self.resets = 0

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (``serve --state-file``): the generator's state and counters, not the lock."""
        with self._lock:
            return {k: v for k, v in vars(self).items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.resets = 0  # a state file from before the count existed
        vars(self).update(state)
        self._lock = threading.Lock()

    def reseed(self, seed: int) -> None:
        """Start the ids over from ``seed`` (a reset): the same ids again, but never the same secrets."""
        with self._lock:
            self.seed = seed
            self._random = random.Random(seed)
            self._counters.clear()
            self.resets += 1

    @property
    def random(self) -> random.Random:
        """The PRNG itself, for callers that draw values (faker is seeded from it)."""
        return self._random

    def uuid4(self) -> uuid.UUID:
        """A version-4 UUID drawn from the seeded PRNG."""
        with self._lock:
            bits = self._random.getrandbits(128)
        return uuid.UUID(int=bits, version=4)

    def uuidt(self, at: datetime) -> uuid.UUID:
        """A time-ordered UUID (PostHog ``UUIDT``-like; version-7 layout) for instant ``at``."""
        millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
        with self._lock:
            rand = self._random.getrandbits(74)
        value = (millis << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
        return uuid.UUID(int=value)

    def token(self, prefix: str, length: int = 40) -> str:
        """An opaque secret such as a personal API key (``phx_…``).

        After a reset the ids start over, and so would the secrets: a key a client kept from
        before would open whoever got it next. Each reset's secrets end with its number, so
        none is ever handed out twice (the first ones, before any reset, are as they were).

        >>> ids = IdSource(1)
        >>> first = ids.token("phx_")
        >>> ids.reseed(1)
        >>> again = ids.token("phx_")
        >>> again != first and again.startswith(first) and len(again) == len(first) + 1
        True
        """
        with self._lock:
            body = "".join(self._random.choice(_KEY_ALPHABET) for _ in range(length))
            resets = self.resets
        return prefix + body + (str(resets) if resets else "")

    def next_int(self, name: str, start: int = 1) -> int:
        """The next value of the named counter (project ids, integration ids)."""
        with self._lock:
            value = self._counters.get(name, start - 1) + 1
            self._counters[name] = value
        return value
