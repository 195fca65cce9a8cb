"""The contract suite's one window on real time and real randomness.

The fake runs on a virtual clock and a seeded id source (:mod:`mockserver.clock`,
:mod:`mockserver.ids`). The suite is a client of real servers: it measures how long a
phase took, waits for a real PostHog's runs to move, and names its objects so that two
CI jobs on one project never confuse theirs. Those reads of the world happen here and
nowhere else in the suite, so a test can see them all (and ``tests/test_architecture.py``
checks that no other module of the suite reads the clock or draws random bytes).
"""

from __future__ import annotations

import os
import time

__all__ = ["elapsed", "monotonic", "run_id", "wait"]

#: Seconds from an arbitrary origin, for measuring how long something took.
elapsed = time.perf_counter
#: Seconds that never go backwards, for rate-limiting progress output.
monotonic = time.monotonic
#: Block for a number of seconds (real time passing on a target without a virtual clock).
wait = time.sleep


def run_id() -> str:
    """Six random hex digits naming one run's objects (``contract-<run id>-<n>``)."""
    return os.urandom(3).hex()
