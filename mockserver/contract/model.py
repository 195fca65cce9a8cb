"""The contract's own statement of the rules it checks, independent of any implementation.

The suite never asks the fake what is legal: it states PostHog's rules here, so a fake
whose tables drift fails the suite instead of agreeing with itself.

>>> is_lifecycle_path(["Starting", "Running", "Completed"])
True
>>> is_lifecycle_path(["Completed", "Running"])
False
>>> error_shape_problem({"type": "validation_error", "code": "required", "detail": "This field is required.",
...                      "attr": "name"}) is None
True
>>> error_shape_problem({"detail": "Not found."})
"missing keys ['attr', 'code', 'type']"
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ACTIVE",
    "BACKFILL_TRANSITIONS",
    "ERROR_TYPES",
    "RUN_TRANSITIONS",
    "TERMINAL",
    "PropertyViolation",
    "error_shape_problem",
    "is_lifecycle_path",
]

#: A run or backfill that can still change, and that cancel accepts.
ACTIVE = frozenset({"Starting", "Running"})

_ENDINGS = frozenset({"Completed", "Failed", "FailedRetryable", "FailedBilling", "Terminated", "TimedOut"})

#: PostHog's ``BatchExportRun.Status`` moves: a run starts, runs, and ends once.
#: ``ContinuedAsNew`` is Temporal's hand-over, an ending as far as a client can tell.
RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    "Starting": frozenset({"Running", "Cancelled"}),
    "Running": _ENDINGS | {"ContinuedAsNew", "Cancelled"},
    **{s: frozenset() for s in (*_ENDINGS, "ContinuedAsNew", "Cancelled")},
}
#: ``BatchExportBackfill.Status``: the run statuses without ``FailedBilling``.
BACKFILL_TRANSITIONS: dict[str, frozenset[str]] = {
    status: targets - {"FailedBilling"} for status, targets in RUN_TRANSITIONS.items() if status != "FailedBilling"
}
TERMINAL = frozenset(s for s, targets in RUN_TRANSITIONS.items() if not targets)

#: The ``type`` values of PostHog's exception handler (``exceptions_hog``).
ERROR_TYPES = frozenset(
    {"validation_error", "authentication_error", "invalid_request", "throttled_error", "server_error"}
)
_ERROR_KEYS = ("attr", "code", "detail", "type")


class PropertyViolation(AssertionError):
    """A property of the contract did not hold.

    Args:
        prop: its name, as the report lists it.
        expected: what the contract says.
        actual: what came back.
    """

    def __init__(self, prop: str, expected: str, actual: str) -> None:
        super().__init__(f"{prop}: expected {expected}, got {actual}")
        self.prop = prop
        self.expected = expected
        self.actual = actual


def is_lifecycle_path(statuses: Sequence[str], table: dict[str, frozenset[str]] = RUN_TRANSITIONS) -> bool:
    """Whether statuses seen one after another (repeats allowed) follow the table's edges.

    Observations may skip steps (a run polled as ``Starting`` then ``Completed`` went
    through ``Running`` unseen), so each later status must be *reachable*, not adjacent.
    """
    for before, after in itertools.pairwise(statuses):
        if before == after:
            continue
        if before not in table or after not in _reachable(before, table):
            return False
    return all(status in table for status in statuses)


def _reachable(start: str, table: dict[str, frozenset[str]]) -> set[str]:
    seen, frontier = set(), [start]
    while frontier:
        for target in table.get(frontier.pop(), ()):
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def error_shape_problem(body: Any) -> str | None:
    """What is wrong with an error body, or ``None`` when it is PostHog's ``{type, code, detail, attr}``."""
    if not isinstance(body, dict):
        return f"not a JSON object: {str(body)[:80]!r}"
    missing = sorted(set(_ERROR_KEYS) - set(body))
    if missing:
        return f"missing keys {missing}"
    extra = sorted(set(body) - set(_ERROR_KEYS))
    if extra:
        return f"unexpected keys {extra}"
    if body["type"] not in ERROR_TYPES:
        return f"unknown type {body['type']!r}"
    if not isinstance(body["code"], str) or not isinstance(body["detail"], str):
        return "code and detail must be strings"
    if body["attr"] is not None and not isinstance(body["attr"], str):
        return "attr must be a string or null"
    return None
