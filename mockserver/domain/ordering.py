"""DRF's ``OrderingFilter`` as the list endpoints read ``?ordering=``, and Postgres' sort.

``?ordering=a,-b`` names terms separated by commas; terms on fields the view does not
allow are dropped, and when none is left the view's default applies. Postgres sorts
``NULL`` after every value ascending and before them descending.

>>> drf_ordering(" created_at ,nope,-start_at", ("created_at", "start_at"), "-created_at")
['created_at', '-start_at']
>>> drf_ordering("nope", ("created_at",), "-created_at"), drf_ordering("--created_at", ("created_at",), "x")
(['-created_at'], ['x'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

__all__ = ["drf_ordering", "sort_by_terms"]

T = TypeVar("T")


def drf_ordering(raw: str | None, fields: Iterable[str], default: str) -> list[str]:
    """The terms of ``raw`` on ``fields`` (``-`` for descending), in order; else ``[default]``."""
    allowed = set(fields)
    terms = [term.strip() for term in (raw or "").split(",")]
    kept = [term for term in terms if term and term.removeprefix("-") in allowed]  # one "-" only: "--x" is no field
    return kept or [default]


def sort_by_terms(items: list[T], terms: Sequence[str], value: Callable[[T, str], Any]) -> list[T]:
    """``items`` sorted by ``terms`` in place (ties keep their order), ``NULL`` as Postgres places it."""
    for term in reversed(terms):  # stable sorts, the least significant term first
        field = term.removeprefix("-")
        items.sort(key=lambda item: _nulls_last(value(item, field)), reverse=term.startswith("-"))
    return items


def _nulls_last(value: Any) -> tuple[bool, Any]:
    return (value is None, value)
