"""``PostHogMock``: one test's fake, with the helpers tests reach for most.

What the ``posthog_mock`` fixture yields. The same object works without pytest::

    from mockserver.testing import PostHogMock

    mock = PostHogMock.private_fake(seed=1)
    export = mock.create_export(interval="hour")
    mock.advance(3600)
    assert mock.calls("batch_exports_create") == []   # made in Python, not over HTTP

Tests talk to it over HTTP three ways: ``mock.url`` (a real port, started on first use),
``mock.httpx_client()`` / ``mock.requests_session()`` (in process, no socket), or
``mock.intercept()`` (code that calls ``https://us.posthog.com`` reaches the fake).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mockserver.clock import DEFAULT_EPOCH, Clock, ClockError
from mockserver.domain.dates import format_datetime, parse_datetime
from mockserver.domain.lifecycle import Outcome
from mockserver.domain.store import ALL_SCOPES, Store, Tenant
from mockserver.http.app import MockServer
from mockserver.http.spec import DEFAULT_PROFILE
from mockserver.testing.transports import (
    IN_PROCESS_URL,
    POSTHOG_HOSTS,
    AsyncHttpxTransport,
    HttpxTransport,
    in_process_session,
    intercept,
)

if TYPE_CHECKING:
    import httpx
    import requests
    from urllib3.util.retry import Retry

    from mockserver.fixtures import Factories, Scenario
    from mockserver.http.faults import Fault, LatencyRule
    from mockserver.http.journal import JournalEntry
    from mockserver.server import ServerThread

__all__ = ["PostHogMock", "UnusedFaults"]


class UnusedFaults(AssertionError):
    """Planned faults were never used: the code under test did not make the calls expected."""


OutcomeLike = Outcome | str | Mapping[str, Any]


def _outcome(value: OutcomeLike) -> Outcome:
    """``"Failed"``, ``{"status": "Failed", "latest_error": "…"}`` or an :class:`Outcome`."""
    if isinstance(value, Outcome):
        return value
    if isinstance(value, str):
        return Outcome(value)
    return Outcome(str(value["status"]), value.get("latest_error"), value.get("records_completed"))


class PostHogMock:
    """One test's tenant on a fake, and the fake itself.

    Args:
        app: the fake (shared by the session, or the test's own).
        tenant: this test's organization, project and key on it.
        private: whether the fake (and so its clock) belongs to this test alone.
        url: the fake's URL when it is already served (the session's server).
    """

    def __init__(self, app: MockServer, tenant: Tenant, *, private: bool, url: str | None = None) -> None:
        self.app = app
        self.tenant = tenant
        self.private = private
        self._url = url
        self._server: ServerThread | None = None
        self._factories: Factories | None = None
        #: The scenario loaded into this tenant (the marker's ``scenario=``), if any.
        self.scenario: Scenario | None = None
        #: Journal id before this test's first request: :meth:`calls` looks only after it.
        self._journal_start = app.journal.last_id

    @classmethod
    def private_fake(
        cls,
        *,
        seed: int = 0,
        start: datetime | str | None = None,
        strict: bool = False,
        scopes: Iterable[str] = ALL_SCOPES,
        feature_flags: Iterable[str] = (),
        profile: str = DEFAULT_PROFILE,
    ) -> PostHogMock:
        """A fake of its own (own store, own frozen clock) with one tenant; no port until :attr:`url`.

        ``start``: when its clock stands (ISO 8601 text or a datetime, as for :meth:`set_time`).
        ``profile`` is the version of PostHog's API the whole fake plays (``docs`` or
        ``current``), so tenants added to it later get the same one.
        """
        begin = _moment(start) if start is not None else DEFAULT_EPOCH
        app = MockServer(seed=seed, strict=strict, clock=Clock.frozen(begin), profile=profile)
        return cls(app, app.store.create_tenant(scopes=scopes, feature_flags=feature_flags), private=True)

    @classmethod
    def on(
        cls,
        server: ServerThread,
        *,
        scopes: Iterable[str] = ALL_SCOPES,
        feature_flags: Iterable[str] = (),
        profile: str = DEFAULT_PROFILE,
    ) -> PostHogMock:
        """A new tenant on a running server (``posthog_mock_server``, the session's), for a
        fixture wider than one test: a module's tests sharing one tenant and what it holds.

        The ``posthog_mock`` fixture's teardown (the fake's errors re-raised, strict mode's
        unused faults, the tenant retired) is then the fixture's to do, if it wants it.
        """
        app = server.app
        tenant = app.store.create_tenant(scopes=scopes, feature_flags=feature_flags, profile=profile)
        return cls(app, tenant, private=False, url=server.url)

    # -- where it is -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The fake's base URL on localhost (a private fake starts serving on first use)."""
        if self._url is None:
            from mockserver.server import ServerThread

            self._server = ServerThread(self.app).start()
            self._url = self._server.url
        return self._url

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def api_key(self) -> str:
        return self.tenant.api_key

    @property
    def project_id(self) -> int:
        return self.tenant.project_id

    @property
    def organization_id(self) -> str:
        return self.tenant.organization_id

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` header for this tenant's key."""
        return {"Authorization": f"Bearer {self.tenant.api_key}"}

    @property
    def project_url(self) -> str:
        """``{url}/api/projects/{project_id}``: prefix of every project-level route."""
        return f"{self.url}/api/projects/{self.tenant.project_id}"

    def integration(self, kind: str) -> int:
        """Id of this tenant's integration of ``kind`` (``aws-s3``, ``snowflake``, ``bigquery``…)."""
        for integration in self.tenant.integrations:
            if integration["kind"] == kind:
                return int(integration["id"])
        kinds = ", ".join(sorted(i["kind"] for i in self.tenant.integrations))
        raise KeyError(f"no integration of kind {kind!r} (this tenant has: {kinds})")

    # -- in-process clients ------------------------------------------------------------

    def httpx_client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` on the fake without a socket, authenticated as this tenant.

        ``base_url`` is the in-process URL; keyword arguments go to ``httpx.Client``.
        """
        import httpx

        kwargs.setdefault("base_url", IN_PROCESS_URL)
        kwargs.setdefault("headers", self.headers)
        return httpx.Client(transport=HttpxTransport(self.app), **kwargs)  # type: ignore[arg-type]

    def async_httpx_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """:meth:`httpx_client` for asyncio code."""
        import httpx

        kwargs.setdefault("base_url", IN_PROCESS_URL)
        kwargs.setdefault("headers", self.headers)
        return httpx.AsyncClient(transport=AsyncHttpxTransport(self.app), **kwargs)  # type: ignore[arg-type]

    def requests_session(self, *, max_retries: Retry | int | None = None) -> requests.Session:
        """A ``requests.Session`` authenticated as this tenant, whose requests stay in process.

        Paths are relative to :data:`IN_PROCESS_URL`, as with :meth:`httpx_client`:
        ``session.get(f"/api/projects/{posthog_mock.project_id}/batch_exports/")``.
        ``max_retries`` is the retry policy of ``requests.adapters.HTTPAdapter`` (a count or a
        urllib3 ``Retry``): an adapter mounted on the session later would not be used, the
        fake's being mounted on a longer prefix. To test a client's own adapter, use
        :meth:`intercept`, which honours it.
        """
        return in_process_session(self.app, self.headers, max_retries=max_retries)

    @contextlib.contextmanager
    def intercept(self, hosts: Iterable[str] = POSTHOG_HOSTS) -> Iterator[PostHogMock]:
        """Route ``requests``/``httpx`` calls to PostHog's hosts (or ``hosts``: ``"posthog.example.internal"``,
        ``"localhost:8000"``, ``"https://posthog.example.internal"``) into this fake, for the block."""
        with intercept(self.app, hosts):
            yield self

    # -- time ----------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The fake's current virtual time."""
        return self.store.clock.now()

    def advance(self, seconds: float | timedelta) -> datetime:
        """Move the virtual clock forward; scheduled runs appear and progress on the way."""
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        with self.store.lock:
            return self.store.clock.advance(seconds)

    def set_time(self, when: datetime | str) -> datetime:
        """Jump the clock to ``when`` (ISO 8601 text or a datetime; without a zone, UTC, as the API
        reads dates); never backwards."""
        moment = _moment(when)
        with self.store.lock:
            if moment < self.store.clock.now():
                hint = (
                    ""
                    if self.private
                    else " The clock is shared by every test on the session's server: ask for one of your own"
                    ' with @pytest.mark.posthog_mock(clock="private").'
                )
                raise ClockError(
                    f"the clock never moves backwards: it is {format_datetime(self.now)},"
                    f" later than {format_datetime(moment)}.{hint}"
                )
            return self.store.clock.set(moment)

    def run_until(
        self, predicate: Callable[[], object], *, step: float = 60.0, within: float = 7 * 86400.0
    ) -> datetime:
        """Advance the clock ``step`` seconds at a time until ``predicate()`` is true.

        Checked before the first step, so an already true condition costs nothing.

        Raises:
            AssertionError: still false after ``within`` virtual seconds.
        """
        if step <= 0:
            raise ValueError("step must be positive")
        start, waited = self.now, 0.0
        while not predicate():
            if waited >= within:
                raise AssertionError(
                    f"condition still false after {within:g} virtual seconds"
                    f" ({format_datetime(start)} → {format_datetime(self.now)})"
                )
            self.advance(step)
            waited += step
        return self.now

    # -- objects -------------------------------------------------------------------------

    def create_export(self, **overrides: Any) -> dict[str, Any]:
        """A valid export in this project, as the API returns it (see :mod:`mockserver.fixtures`)."""
        return self.factories.batch_export(**overrides)

    @property
    def factories(self) -> Factories:
        """Seeded, realistic objects in this tenant (:class:`mockserver.fixtures.Factories`)."""
        if self._factories is None:
            from mockserver.fixtures import Factories

            self._factories = Factories(self.app, self.tenant, seed=self.store.ids.seed)
        return self._factories

    def load_scenario(self, scenario: str) -> Scenario:
        """Load a scenario (a shipped name or a YAML path) into this tenant; also kept as :attr:`scenario`."""
        from mockserver.fixtures import load_scenario

        self.scenario = load_scenario(scenario, self.app, self.tenant)
        return self.scenario

    # -- planned behaviour -----------------------------------------------------------------

    def plan_outcomes(self, export_id: str, outcomes: Iterable[OutcomeLike]) -> list[Outcome]:
        """Make the export's next runs end as planned: ``["Failed", "Completed"]`` or :class:`Outcome` s."""
        if isinstance(outcomes, (str, Mapping, Outcome)):  # one outcome where a list is meant
            raise TypeError(f"outcomes: give a list, such as [{outcomes!r}], one item per run")
        return self.app.plan_outcomes(export_id, [_outcome(o) for o in outcomes])

    def plan_file_downloads(self, outcomes: Iterable[OutcomeLike]) -> list[Outcome]:
        """Make this project's next file downloads end as planned: ``["Failed"]``, ``[{"status": "Completed",
        "records_completed": 0}]`` (a download with no files) or :class:`Outcome` s."""
        if isinstance(outcomes, (str, Mapping, Outcome)):
            raise TypeError(f"outcomes: give a list, such as [{outcomes!r}], one item per file download")
        return self.app.plan_file_downloads(self.project_id, [_outcome(o) for o in outcomes])

    def fault(
        self,
        operation: str | None,
        status: int | None = None,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        drop: bool = False,
        delay: float = 0.0,
    ) -> Fault:
        """The next ``times`` requests of ``operation`` from this tenant misbehave.

        ``status`` (any, 2xx included, with ``body`` and ``headers``), ``drop=True`` (no
        answer at all) or ``delay=seconds`` (a late answer; past the client's timeout it
        times out). ``operation`` is an operationId in any spelling, or ``None`` for all.
        """
        return self.app.faults.add(
            operation, status, times=times, headers=headers, body=body, drop=drop, delay=delay,
            project_id=self.project_id,
        )  # fmt: skip

    def latency(self, seconds: float, operation: str | None = None) -> LatencyRule:
        """Delay this project's responses (of one operation, or of all) by ``seconds``."""
        return self.app.latency.set(seconds, operation=operation, project_id=self.project_id)

    def add_project(self, name: str | None = None) -> int:
        """Another project in this tenant's organization (its key reaches it); the new project's id."""
        return self.app.store.add_project(self.organization_id, name).id

    def clear_faults(self) -> int:
        """Drop this tenant's planned faults that are not used up; returns how many faults (not
        answers) were dropped. Strict mode then has none to report: for a test whose client stops
        retrying before a fault runs out."""
        return self.app.faults.clear(project_id=self.project_id)

    def clear_latency(self) -> int:
        """Drop this project's latency rules; returns how many there were."""
        return self.app.latency.clear(project_id=self.project_id)

    def unused_faults(self) -> list[Fault]:
        """This tenant's planned faults that still wait for a request."""
        return self.app.faults.active(project_id=self.project_id)

    def assert_faults_used(self) -> None:
        """Fail if a planned fault was never used (strict mode checks this at teardown)."""
        unused = self.unused_faults()
        if unused:
            described = "; ".join(
                f"{f.operation or 'any operation'}: {_fault_action(f)}, {f.remaining} of {f.times} left" for f in unused
            )
            raise UnusedFaults(f"{len(unused)} planned fault(s) never used: {described}")

    # -- what the code under test did ------------------------------------------------------

    def journal(self, operation: str | None = None, **filters: Any) -> list[JournalEntry]:
        """This tenant's requests and responses, oldest first (filters as ``Journal.entries``).

        The tenant's are those its project or its organization answered, those refused
        before that with its key (a 404 for a project id it does not have), and those
        refused without any valid key (a 401) whose URL names its project or organization:
        a call of the code under test is counted however it ended, another tenant's never.
        """
        project, organization = str(self.project_id), self.organization_id
        prefixes = (f"/api/projects/{project}/", f"/api/environments/{project}/", f"/api/organizations/{organization}/")

        def mine(entry: JournalEntry) -> bool:
            if entry.project_id is not None:
                return entry.project_id == self.project_id
            if entry.organization_id is not None:
                return entry.organization_id == organization
            if entry.key_organization_id is not None:
                return entry.key_organization_id == organization
            return f"{entry.path.rstrip('/')}/".startswith(prefixes)

        limit = filters.pop("limit", None)
        found = [e for e in self.app.journal.entries(operation=operation, **filters) if mine(e)]
        return found[-limit:] if limit else found  # as Journal.entries reads it (0 or None: all)

    def calls(self, operation: str | None = None, **filters: Any) -> list[JournalEntry]:
        """Requests this test's tenant made (of one operation, in any spelling), oldest first.

        ``filters``: ``method``, ``status`` (see :meth:`Journal.entries`).
        """
        return self.journal(operation, since=self._journal_start, **filters)

    def assert_called(self, operation: str, *, times: int | None = None, **filters: Any) -> list[JournalEntry]:
        """Fail unless ``operation`` was called (exactly ``times`` times, when given)."""
        found = self.calls(operation, **filters)
        if (times is None and not found) or (times is not None and len(found) != times):
            wanted = "at least once" if times is None else f"{times} time(s)"
            summary = _summary(self, len(found))
            raise AssertionError(f"expected {operation} to be called {wanted}{_filters(filters)}; {summary}")
        return found

    def assert_called_once(self, operation: str, **filters: Any) -> JournalEntry:
        """Fail unless ``operation`` was called exactly once; returns that call."""
        return self.assert_called(operation, times=1, **filters)[0]

    def assert_not_called(self, operation: str, **filters: Any) -> None:
        self.assert_called(operation, times=0, **filters)

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """The test is over: stop a private fake's port, if one was started; on a shared
        server, retire the tenant (:meth:`MockServer.retire_tenant`: the shared clock runs
        none of its exports any more, so later tests do not pay for them)."""
        if not self.private:
            self.app.retire_tenant(self.tenant.organization_id)
        if self._server is not None:
            self._server.stop()
            self._server = None


def _fault_action(fault: Fault) -> str:
    if fault.drop:
        return "drop"
    return f"answer {fault.status}" if fault.status is not None else f"delay {fault.delay:g} s"


def _filters(filters: Mapping[str, Any]) -> str:
    return f" with {', '.join(f'{k}={v!r}' for k, v in filters.items())}" if filters else ""


def _summary(mock: PostHogMock, found: int) -> str:
    calls = mock.calls()
    journal = mock.app.journal
    dropped = ""
    if journal.first_id > mock._journal_start + 1:
        dropped = (
            f" (the journal keeps the last {journal.max_entries} requests of the fake: older ones of this test "
            "fell off, so these counts may be short)"
        )
    if not calls:
        return f"no request was made{dropped}"
    shown = ", ".join(f"{c.method} {c.path} → {c.status}" for c in calls[-10:])
    last = " (the last 10)" if len(calls) > 10 else ""
    return f"called {found} time(s){dropped}; all {len(calls)} request(s) of this test's tenant{last}: {shown}"


def _moment(when: datetime | str) -> datetime:
    """``when`` as an aware datetime: ISO 8601 text or a datetime (without a zone: UTC, as the API reads dates)."""
    moment = parse_datetime(when) if isinstance(when, str) else when
    if not isinstance(moment, datetime):
        raise ValueError(f"not an ISO 8601 datetime: {when!r}")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
