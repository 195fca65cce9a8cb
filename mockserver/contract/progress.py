"""What the suite shows while it runs: a line per phase, and a live counter on a terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from mockserver.contract import wallclock
from mockserver.contract.report import PhaseResult
from mockserver.contract.target import Exchange

__all__ = ["Lines", "Progress", "Silent"]


class Progress:
    """Told when a phase starts and ends, and of every request in between."""

    def start(self, phase: str, description: str) -> None:
        pass

    def request(self, exchange: Exchange) -> None:
        pass

    def end(self, result: PhaseResult) -> None:
        pass


class Silent(Progress):
    """Shows nothing (the Python API's default)."""


class Lines(Progress):
    """One line per phase on ``stream``; on a terminal, a counter that redraws while a phase runs."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._phase = ""
        self._count = 0
        self._last_draw = 0.0

    def start(self, phase: str, description: str) -> None:
        self._phase, self._count = phase, 0
        self.stream.write(f"▶ {phase}: {description}\n")
        self.stream.flush()

    def request(self, exchange: Exchange) -> None:
        self._count += 1
        now = wallclock.monotonic()
        if self.live and now - self._last_draw > 0.1:
            self._last_draw = now
            spinner = "|/-\\"[self._count % 4]
            self.stream.write(f"\r  {spinner} {self._count} requests  {exchange.summary()[:70]:<70}")
            self.stream.flush()

    def end(self, result: PhaseResult) -> None:
        if self.live:
            self.stream.write("\r" + " " * 100 + "\r")
        mark = "✔" if result.ok else "✘"
        self.stream.write(
            f"{mark} {result.name}: {len(result.passes)} passed, {len(result.violations)} failed, "
            f"{len(result.skips)} skipped, {result.requests} requests in {result.seconds:.1f} s\n"
        )
        self.stream.flush()
