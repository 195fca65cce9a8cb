"""A stateful, spec-driven fake of PostHog's batch-exports API.

>>> from mockserver import MockServer
>>> server = MockServer()                 # a WSGI app; serve it or call it in-process
>>> tenant = server.store.create_tenant()  # an isolated organization, project and key

Everything a user names is importable from here: the server, its store and clock, the
errors, the planned :class:`Outcome` and :class:`Progression` of runs, and the records the
pytest plugin's :class:`PostHogMock` hands back (:class:`Fault`, :class:`LatencyRule`,
:class:`JournalEntry`). ``PostHogMock`` is imported on first use, so that importing the
package does not import pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.clock import Clock
from mockserver.domain.lifecycle import Outcome, Progression
from mockserver.domain.store import Store, Tenant
from mockserver.errors import APIError
from mockserver.http.app import MockServer
from mockserver.http.faults import Fault, LatencyRule
from mockserver.http.journal import JournalEntry
from mockserver.http.parsed import ResponseContractError

if TYPE_CHECKING:
    from mockserver.pytest_plugin import PostHogMock

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "Clock",
    "Fault",
    "JournalEntry",
    "LatencyRule",
    "MockServer",
    "Outcome",
    "PostHogMock",
    "Progression",
    "ResponseContractError",
    "Store",
    "Tenant",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "PostHogMock":
        from mockserver.pytest_plugin import PostHogMock

        return PostHogMock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
