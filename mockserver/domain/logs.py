"""Worker log lines as the API reads them: filters, newest first, and PostHog's row cap.

PostHog's ``LogEntryMixin.logs`` (``posthog/api/log_entries.py``) queries the
``log_entries`` table for one source (an export or an on-demand export), optionally one
instance (a run), and applies ``LIMIT`` in SQL (``limit``, 50 by default) before DRF
pages the rows, so ``count`` never exceeds it. The page is sized by the request's own
``limit`` alone (PostHog's page size, 100, without one): that is the HTTP layer's.

>>> from datetime import datetime, timezone
>>> from mockserver.domain.models import LogEntry
>>> from mockserver.domain.store import Store
>>> store = Store()
>>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
>>> store.add_log(LogEntry(1, "export", "run-1", at, "INFO", "Batch export run is running"))
>>> store.add_log(LogEntry(1, "export", "run-1", at, "ERROR", "Batch export run failed: boom"))
>>> [e.message for e in Logs(store).query([1], "export", LogQuery(levels=frozenset({"ERROR"})))]
['Batch export run failed: boom']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from mockserver.domain.models import LogEntry
from mockserver.domain.store import Store

__all__ = ["DEFAULT_LIMIT", "LOG_LEVELS", "LikePattern", "LogQuery", "Logs"]

#: The levels a log line is shown with (upper case), as the spec's ``LogEntry.level`` lists them.
LOG_LEVELS = ("DEBUG", "LOG", "INFO", "WARNING", "ERROR")
#: ``limit`` when the request gives none.
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class LogQuery:
    """The filters of a logs request, already parsed."""

    #: Only lines of this run (``instance_id``); ``None``: every run of the source.
    instance_id: str | None = None
    #: Strictly after / before these instants.
    after: datetime | None = None
    before: datetime | None = None
    #: Upper-case levels to keep; empty: every level.
    levels: frozenset[str] = frozenset()
    #: A pattern the message must contain, read as ClickHouse reads ``ILIKE '%search%'``:
    #: case-insensitive, ``_`` any one character, ``%`` any run of them, ``\\`` escaping
    #: the next one. Empty: no filter.
    search: str = ""
    #: The row cap (SQL ``LIMIT``).
    limit: int = DEFAULT_LIMIT


class Logs:
    """The log lines of one store, read the way PostHog's logs endpoints read them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def query(self, team_ids: Collection[int], source_id: str, query: LogQuery) -> list[LogEntry]:
        """Lines of ``source_id`` in ``team_ids`` that pass ``query``, newest first, at most ``query.limit``.

        Ties keep the order the lines were written in. Only what the answer needs is read:
        one run's few lines, or the source's lines between the bounds, newest first, as far
        as the cap (found by bisection in the source's time-ordered lines).
        """
        store = self.store
        candidates: Iterable[LogEntry]
        if query.instance_id is not None:
            candidates = sorted(store.logs_by_instance.get(query.instance_id, ()), key=_timestamp, reverse=True)
        else:
            timeline = store.logs_by_source.get(source_id)
            candidates = (
                timeline.newest_first(*timeline.span(query.after, query.before, strict=True)) if timeline else ()
            )
        search = LikePattern(query.search) if query.search else None
        matching = (
            e
            for e in candidates
            if e.log_source_id == source_id
            and e.team_id in team_ids
            and (query.instance_id is None or e.instance_id == query.instance_id)
            and (query.after is None or e.timestamp > query.after)
            and (query.before is None or e.timestamp < query.before)
            and (not query.levels or e.level.upper() in query.levels)
            and (search is None or search.matches(e.message))
        )
        return list(itertools.islice(matching, max(query.limit, 0)))


class LikePattern:
    """``search`` as PostHog's SQL uses it, ``message ILIKE '%search%'``.

    PostHog puts the text between ``%`` without escaping it (``fetch_log_entries`` in
    ``posthog/api/log_entries.py@d96a6558d9c6ac7eec551547b3f16a8a94e5c8d3``), so the
    wildcards in it stay wildcards: ``_`` one character, ``%`` any run of them, ``\\``
    escaping the next one. Matched piece by piece (the text between ``%``), each found at
    its earliest place after the one before: linear in the message however many
    wildcards the pattern has, where a regular expression with ``.*`` for each ``%``
    backtracks exponentially.

    >>> [LikePattern("run_1").matches(m) for m in ("Run 1 done", "run_1 done", "run 10")]
    [True, True, True]
    >>> [LikePattern(r"100\\%").matches(m) for m in ("100% done", "1000 rows")]
    [True, False]
    >>> LikePattern("_%_%_%_%_%_%_%_%zzz").matches("x" * 100)
    False
    """

    def __init__(self, search: str) -> None:
        pieces: list[list[str]] = [[]]
        chars = iter(search)
        for char in chars:
            if char == "\\":
                pieces[-1].append(re.escape(next(chars, "\\")))
            elif char == "%":
                pieces.append([])
            else:
                pieces[-1].append("." if char == "_" else re.escape(char))
        self._pieces = [re.compile("".join(p), re.IGNORECASE | re.DOTALL) for p in pieces if p]

    def matches(self, text: str) -> bool:
        position = 0
        for piece in self._pieces:
            found = piece.search(text, position)
            if found is None:
                return False
            position = found.end()
        return True


def _timestamp(entry: LogEntry) -> datetime:
    return entry.timestamp
