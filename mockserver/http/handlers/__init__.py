"""Handlers, one per canonical operation name (the operationId without its
``environments_`` prefix or ``_2`` suffix: the three URL spellings share one handler).

Each module declares its own table; :func:`merge` joins them and refuses a name that two
tables declare (with ``{**a, **b}`` the later one would silently win):

>>> merge({"a": 1}, {"a": 2})
Traceback (most recent call last):
...
ValueError: handler 'a' is declared twice
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from mockserver.http.context import ApiHandler
from mockserver.http.handlers import backfills, batch_exports, control, file_downloads, home, runs
from mockserver.http.handlers.control import ControlHandler

__all__ = ["API_HANDLERS", "CONTROL_HANDLERS", "HANDLERS", "merge"]

H = TypeVar("H")


def merge(*tables: Mapping[str, H]) -> dict[str, H]:
    """One table from several; a name declared twice is a :class:`ValueError`."""
    merged: dict[str, H] = {}
    for table in tables:
        for name, handler in table.items():
            if name in merged:
                raise ValueError(f"handler {name!r} is declared twice")
            merged[name] = handler
    return merged


#: Handlers of PostHog's operations (and of ``/_mock/files/``): they get the domain services.
API_HANDLERS: Mapping[str, ApiHandler] = MappingProxyType(
    merge(batch_exports.HANDLERS, runs.HANDLERS, backfills.HANDLERS, file_downloads.HANDLERS)
)
#: Handlers of the ``/_mock/`` control plane: they get the :class:`~control.ControlPlane`.
CONTROL_HANDLERS: Mapping[str, ControlHandler] = MappingProxyType(merge(control.HANDLERS, home.HANDLERS))
#: Every handler by name (a name in both tables would be an error here).
HANDLERS: Mapping[str, ApiHandler | ControlHandler] = MappingProxyType(merge(API_HANDLERS, CONTROL_HANDLERS))
