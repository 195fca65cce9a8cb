"""Testing helpers: one test's fake (:class:`PostHogMock`), in-process clients, intercept.

The pytest plugin (:mod:`mockserver.pytest_plugin`) builds on these; they work without it.
"""

from mockserver.testing.mock import PostHogMock, UnusedFaults
from mockserver.testing.settings import Settings, SettingsError
from mockserver.testing.transports import (
    IN_PROCESS_URL,
    POSTHOG_HOSTS,
    AsyncHttpxTransport,
    HttpxTransport,
    RequestsAdapter,
    in_process_session,
    intercept,
)

__all__ = [
    "IN_PROCESS_URL",
    "POSTHOG_HOSTS",
    "AsyncHttpxTransport",
    "HttpxTransport",
    "PostHogMock",
    "RequestsAdapter",
    "Settings",
    "SettingsError",
    "UnusedFaults",
    "in_process_session",
    "intercept",
]
