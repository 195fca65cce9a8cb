"""A stateful, spec-driven fake of PostHog's batch-exports API.

>>> from mockserver import MockServer
>>> server = MockServer()                 # a WSGI app; serve it or call it in-process
>>> tenant = server.store.create_tenant()  # an isolated organization, project and key

Everything a user names is importable from here: the server, its store and clock, the
errors, the planned :class:`Outcome` and :class:`Progression` of runs, the records the
pytest plugin's :class:`PostHogMock` hands back (:class:`Fault`, :class:`LatencyRule`,
:class:`JournalEntry`), its :class:`Settings` (the marker and options) and the in-process
clients of :mod:`mockserver.testing`. None of them imports pytest.
"""

from __future__ import annotations

from mockserver.clock import Clock
from mockserver.domain.lifecycle import Outcome, Progression
from mockserver.domain.store import Store, Tenant
from mockserver.errors import APIError
from mockserver.http.app import MockServer
from mockserver.http.faults import Fault, LatencyRule
from mockserver.http.journal import JournalEntry
from mockserver.http.parsed import ResponseContractError
from mockserver.testing import (
    IN_PROCESS_URL,
    AsyncHttpxTransport,
    HttpxTransport,
    PostHogMock,
    RequestsAdapter,
    Settings,
    SettingsError,
    UnusedFaults,
    intercept,
)

__version__ = "0.1.0"

__all__ = [
    "IN_PROCESS_URL",
    "APIError",
    "AsyncHttpxTransport",
    "Clock",
    "Fault",
    "HttpxTransport",
    "JournalEntry",
    "LatencyRule",
    "MockServer",
    "Outcome",
    "PostHogMock",
    "Progression",
    "RequestsAdapter",
    "ResponseContractError",
    "Settings",
    "SettingsError",
    "Store",
    "Tenant",
    "UnusedFaults",
    "__version__",
    "intercept",
]
