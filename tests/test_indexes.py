"""The time-ordered indexes answer exactly what a scan of the whole history would.

Runs, log lines and backfill intervals are found by bisection (so a request costs what it
returns); each test here builds a random history, asks the indexed code, and compares the
answer with the straightforward scan it replaces.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st
from support import Api, call

from mockserver import MockServer
from mockserver.domain.backend import Backend
from mockserver.domain.models import Backfill, LogEntry, Run
from mockserver.domain.runs import RUN_ORDERINGS, RunQuery
from mockserver.domain.store import Store
from mockserver.domain.timeline import Timeline

#: The export the runs belong to (an export id in a URL is a UUID).
EXPORT = "0190c5a0-0000-7000-8000-000000000001"
STATUSES = ("Completed", "Failed", "Running")
HOUR = timedelta(hours=1)

# A run: hours before now it was created, hours before that its interval starts (or no
# start), its length in hours and its status; the hours repeat often, to make ties.
run_shapes = st.lists(
    st.tuples(
        st.integers(0, 400),
        st.one_of(st.none(), st.integers(0, 300)),
        st.integers(0, 3),
        st.sampled_from(STATUSES),
    ),
    max_size=60,
)
queries = st.builds(
    RunQuery,
    # With PostHog's raw comparison for the window, and DRF's terms for the sort.
    ordering=st.sampled_from(
        (
            *RUN_ORDERINGS,
            "name",
            "data_interval_start,created_at",
            "-created_at,-data_interval_start",
            " data_interval_start",
            "created_at,nope",
            "-data_interval_start,created_at",
        )
    ),
    statuses=st.sampled_from(((), ("Completed",), ("Failed", "Running"))),
    after=st.sampled_from((None, "-3d", "-10d")),
    before=st.sampled_from((None, "-1d", "-200h")),
    start=st.sampled_from((None, "-4d", "-30d")),
    end=st.sampled_from((None, "-2d", "-100h")),
)


def scan(backend: Backend, runs: list[Run], team_id: int, query: RunQuery) -> list[Run]:
    """How the runs list was computed before the indexes: filter everything, then compare
    pairs term by term (NULL last ascending, first descending), ties in creation order
    (reversed when the first term descends)."""
    allowed = {term.lstrip("-") for term in RUN_ORDERINGS}
    terms = [t.strip() for t in query.ordering.split(",") if t.strip() and t.strip().lstrip("-") in allowed]
    terms = terms or ["-created_at"]
    by_start, lower, upper = backend.runs._window(team_id, query)  # the bounds themselves are not under test
    picked = [r for r in runs if r.team_id == team_id]
    if by_start:
        picked = [
            r
            for r in picked
            if r.data_interval_start is not None and r.data_interval_start >= lower and r.data_interval_end <= upper
        ]
    else:
        picked = [r for r in picked if lower <= r.created_at <= upper]
    if query.statuses:
        picked = [r for r in picked if r.status in query.statuses]
    # Creation order: by created_at, then in the order the runs were added.
    created = {r.id: i for i, r in enumerate(sorted(runs, key=lambda r: r.created_at))}

    def compare(a: Run, b: Run) -> int:
        for term in terms:
            field, descending = term.lstrip("-"), term.startswith("-")
            x, y = getattr(a, field), getattr(b, field)
            if x == y:
                continue
            # NULL sorts after every value ascending.
            ahead = y is None if x is None or y is None else x < y
            return (1 if ahead else -1) if descending else (-1 if ahead else 1)
        tie = created[a.id] - created[b.id]
        return -tie if terms[0].startswith("-") else tie

    return sorted(picked, key=functools.cmp_to_key(compare))


@settings(max_examples=150, deadline=None)
@given(shapes=run_shapes, query=queries)
# A run made after a later-created one with the same start (a factory's run of an earlier
# interval): ties still read in creation order.
@example(
    shapes=[(63, 300, 0, "Completed"), (64, 299, 0, "Completed")],
    query=RunQuery(ordering="data_interval_start", statuses=(), after=None, before=None, start="-30d", end=None),
)
def test_a_runs_list_is_the_scan_of_every_run(shapes: list[tuple[int, int | None, int, str]], query: RunQuery) -> None:
    backend = Backend(Store(seed=1))
    store = backend.store
    team_id = store.create_tenant().project_id
    other_team = store.create_tenant().project_id
    now = store.clock.now()
    runs = []
    for i, (age, lead, length, status) in enumerate(shapes):
        created = now - age * HOUR
        start = None if lead is None else created - lead * HOUR
        end = (start or created) + length * HOUR
        run = Run(f"run-{i}", team_id, status, start, end, created, created, batch_export_id=EXPORT)
        store.runs[run.id] = run
        store.add_run(run)
        runs.append(run)

    listed = list(backend.runs.query(team_id, EXPORT, query))

    assert [r.id for r in listed] == [r.id for r in scan(backend, runs, team_id, query)]
    assert list(backend.runs.query(other_team, EXPORT, query)) == []
    for run in runs:  # retrieve sees a run exactly when the list shows it
        try:
            found = backend.runs.get(team_id, EXPORT, run.id, query) is run
        except Exception:  # noqa: BLE001 - NotFound
            found = False
        assert found == (run in listed)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.integers(0, 30),
            st.sampled_from(("a", "b")),
            st.sampled_from(("run-1", "run-2", "run-3")),
            st.sampled_from(("INFO", "ERROR")),
            st.sampled_from((1, 2)),
        ),
        max_size=60,
    ),
    instance=st.sampled_from((None, "run-1")),
    after=st.sampled_from((None, 5, 12)),
    before=st.sampled_from((None, 20, 12)),
    level=st.sampled_from(("", "ERROR")),
    search=st.sampled_from(("", "line 1")),
    limit=st.integers(1, 10),
)
def test_a_logs_page_is_the_scan_of_every_line(
    lines: list[tuple[int, str, str, str, int]],
    instance: str | None,
    after: int | None,
    before: int | None,
    level: str,
    search: str,
    limit: int,
) -> None:
    server = MockServer(seed=2, strict=True)
    store = server.store
    tenant = store.create_tenant()
    export = Api(server, tenant).create_export()
    base = store.clock.now() - timedelta(minutes=40)
    entries = []
    for i, (minute, source, run_id, lvl, team) in enumerate(lines):
        team_id = tenant.project_id if team == 1 else tenant.project_id + 1000
        src = export["id"] if source == "a" else "other"
        entry = LogEntry(team_id, src, run_id, base + timedelta(minutes=minute), lvl, f"line {i}")
        store.add_log(entry)
        entries.append(entry)
    params: dict[str, str] = {"limit": str(limit)}
    if instance:
        params["instance_id"] = instance
    if after is not None:
        params["after"] = (base + timedelta(minutes=after)).isoformat()
    if before is not None:
        params["before"] = (base + timedelta(minutes=before)).isoformat()
    if level:
        params["level"] = level
    if search:
        params["search"] = search

    response = call(
        server,
        "GET",
        f"/api/projects/{tenant.project_id}/batch_exports/{export['id']}/logs/",
        query_string=params,
        headers={"Authorization": f"Bearer {tenant.api_key}"},
    )

    expected = [
        e
        for e in entries
        if e.log_source_id == export["id"]
        and e.team_id == tenant.project_id
        and (instance is None or e.instance_id == instance)
        and (after is None or e.timestamp > base + timedelta(minutes=after))
        and (before is None or e.timestamp < base + timedelta(minutes=before))
        and (not level or e.level == level)
        and (not search or search in e.message.lower())
    ]
    expected.sort(key=lambda e: e.timestamp, reverse=True)
    assert response.status_code == 200, response.json
    assert [r["message"] for r in response.json["results"]] == [e.message for e in expected[:limit]]


@given(
    interval=st.sampled_from(("hour", "day", "week", "every 5 minutes", "every 15 minutes")),
    start=st.one_of(st.none(), st.integers(0, 10_000)),
    length=st.integers(-100, 10_000),
)
def test_backfill_intervals_one_at_a_time_are_the_list_of_all_of_them(
    interval: str, start: int | None, length: int
) -> None:
    server = MockServer(seed=3)
    backend, store = server.backend, server.store
    tenant = store.create_tenant(feature_flags=["high-frequency-batch-exports"])
    team_id = tenant.project_id
    export = Api(server, tenant).create_export(interval=interval)
    now = store.clock.now()
    begin = None if start is None else now - timedelta(minutes=start)
    end = None if begin is None else begin + timedelta(minutes=length)
    backfill = Backfill("b", team_id, export["id"], begin, end, "Running", now, now)
    step = {"hour": HOUR, "day": 24 * HOUR, "week": 168 * HOUR}.get(interval) or timedelta(
        minutes=int(interval.split()[1])
    )
    # PostHog's ``backfill_range``, built whole: whole steps only; no start, one open run
    # (to the end, or to now rounded down to a multiple of the step since the epoch).
    expected: list[tuple[datetime | None, datetime]] = []
    if backfill.start_at is None:
        expected = [(None, backfill.end_at or now - timedelta(seconds=now.timestamp() % step.total_seconds()))]
    else:
        assert backfill.end_at is not None
        cursor = backfill.start_at
        while cursor + step <= backfill.end_at:
            expected.append((cursor, cursor + step))
            cursor += step

    count = backend.engine.backfill_interval_count(backfill)

    assert count == len(expected)
    assert [backend.engine.backfill_interval(backfill, i, now) for i in range(count)] == expected


def test_a_timeline_keeps_ties_in_the_order_they_were_added_even_when_added_late() -> None:
    t: Timeline[str] = Timeline()
    at = datetime(2026, 1, 1).astimezone()
    for offset, name in [(2, "c1"), (0, "a"), (2, "c2"), (1, "b"), (2, "c3"), (0, "a2")]:
        t.add(at + offset * HOUR, name)
    assert list(t) == ["a", "a2", "b", "c1", "c2", "c3"]
    assert list(t.newest_first(0, len(t))) == ["c1", "c2", "c3", "b", "a", "a2"]
    view = t.view(1, 5, reverse=True)
    assert list(view) == ["c2", "c1", "b", "a2"] and view[1:3] == ["c1", "b"] and view[-1] == "a2"
    assert t.span(at + HOUR, at + 2 * HOUR, strict=True) == (3, 3)
