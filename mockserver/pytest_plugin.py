"""pytest plugin: a fake PostHog per test, a tenant on a shared server or a fake of its own.

Installing the package registers it (entry point ``pytest11``)::

    def test_my_exporter(posthog_mock):
        client = MyPostHogClient(host=posthog_mock.url, api_key=posthog_mock.api_key,
                                 project_id=posthog_mock.project_id)
        client.create_export(name="nightly", ...)
        created = posthog_mock.assert_called_once("batch_exports_create")
        assert created.status == 201

    @pytest.mark.posthog_mock(clock="private", start="2026-03-01T00:00:00Z",
                              feature_flags=["high-frequency-batch-exports"], seed=7, strict=True)
    def test_five_minute_exports(posthog_mock):
        ...

    @pytest.mark.posthog_mock(profile="current", feature_flags=["hogql-batch-exports"])
    def test_a_hogql_export(posthog_mock):
        ...  # today's PostHog API; an unmarked test gets the public docs' ("docs")

By default each test gets its own organization, project and key on one server per
session (per xdist worker): tests never see each other's data, but share its clock.
``clock="private"`` gives the test a fake of its own, in process, with its own clock;
it takes a port only if the test reads ``posthog_mock.url``. Every marker argument is
also an ini option and a command-line flag (:mod:`mockserver.testing.settings`).

Fixtures: ``posthog_mock`` (a :class:`~mockserver.testing.PostHogMock`),
``posthog_mock_server`` (the session's :class:`~mockserver.server.ServerThread`),
``posthog_mock_settings`` (the test's resolved :class:`~mockserver.testing.Settings`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from mockserver.testing.mock import PostHogMock, UnusedFaults
from mockserver.testing.settings import MARKER_ARGUMENTS, Settings, SettingsError, resolve_scenario

if TYPE_CHECKING:
    from mockserver.server import ServerThread

__all__ = ["PostHogMock"]

#: (setting, help, kind) for the ini options and flags; kind is how the text is read.
_OPTIONS = (
    ("clock", "shared (a tenant on the session's server) or private (a fake of the test's own)", "str"),
    ("start", "ISO 8601 start of the virtual clock (the shared server's, and private fakes')", "str"),
    ("feature_flags", "PostHog feature flags on for every test's project (comma-separated)", "str"),
    ("scopes", "scopes of every test's API key (comma-separated; default batch_export:read,write)", "str"),
    ("seed", "seed for ids and generated values", "str"),
    ("strict", "check responses against the spec and fail on planned faults left unused", "bool"),
    ("scenario", "a shipped scenario's name or a YAML path, loaded into every test's tenant", "str"),
    ("profile", "the PostHog API every test's tenant gets: docs (the public docs', default) or current", "str"),
    ("intercept", "route requests to https://us.posthog.com and eu.posthog.com to the fake", "bool"),
    ("port", "port of the session's shared server (default: any free one; xdist worker gwN takes port + N)", "str"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("posthog-mock", "PostHog batch-exports mock")
    for name, help_text, kind in _OPTIONS:
        flag = "--posthog-mock-" + name.replace("_", "-")
        if kind == "bool":
            group.addoption(flag, action="store_true", default=None, help=help_text)
        else:
            group.addoption(flag, default=None, help=help_text)
        parser.addini(f"posthog_mock_{name}", help_text, type="bool" if kind == "bool" else "string", default=None)


_SETTINGS = pytest.StashKey[Settings]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SETTINGS] = _read_settings(config)  # a bad option stops the run before any test
    config.addinivalue_line(
        "markers",
        "posthog_mock(clock='shared'|'private', start=ISO8601, feature_flags=[...], scopes=[...], seed=N, "
        "strict=bool, scenario=name_or_path, profile='docs'|'current'): this test's fake PostHog",
    )


#: Set on a test item whose call phase failed (read by the fixture's teardown).
_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True
    return report


def _call_failed(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.stash.get(_CALL_FAILED, False))


def _session_settings(config: pytest.Config) -> Settings:
    return config.stash[_SETTINGS]


def _read_settings(config: pytest.Config) -> Settings:
    """The ini options with the command-line flags on top.

    A relative scenario path in them is read from the ini file's folder (the rootdir
    when there is none), wherever pytest is started from.
    """
    values: dict[str, Any] = {}
    for name, _help, _kind in _OPTIONS:
        ini = config.getini(f"posthog_mock_{name}")
        if ini not in (None, ""):
            values[name] = ini
        flag = config.getoption(f"posthog_mock_{name}")
        if flag is not None:
            values[name] = flag
    message = None
    try:
        settings = Settings().merged(values, per_test=False)
        if settings.scenario:
            base = config.inipath.parent if config.inipath is not None else config.rootpath
            settings = replace(settings, scenario=resolve_scenario(settings.scenario, [base]))
    except SettingsError as exc:
        message = f"posthog_mock options: {exc}"
    if message is not None:  # raised outside the handler: one message, not a chain of two
        raise pytest.UsageError(message)
    return settings


def _port(config: pytest.Config) -> int:
    """The shared server's port: the ``port`` option (plus N on xdist worker ``gwN``), else 0 (any)."""
    return worker_port(_session_settings(config).port, getattr(config, "workerinput", None))


def worker_port(port: int, workerinput: dict[str, Any] | None) -> int:
    """``port`` for this process: xdist's worker ``gwN`` (``workerinput``, set on workers alone) takes ``port + N``.

    >>> worker_port(8100, None), worker_port(8100, {"workerid": "gw2"}), worker_port(0, {"workerid": "gw2"})
    (8100, 8102, 0)
    """
    worker = str((workerinput or {}).get("workerid", ""))
    if port == 0 or not (worker.startswith("gw") and worker[2:].isdigit()):
        return port
    return port + int(worker[2:])


@pytest.fixture(scope="session")
def posthog_mock_server(pytestconfig: pytest.Config) -> Iterator[ServerThread]:
    """The session's running fake (a :class:`~mockserver.server.ServerThread`)."""
    from mockserver.clock import DEFAULT_EPOCH, Clock
    from mockserver.http.app import MockServer
    from mockserver.server import ServerThread

    settings = _session_settings(pytestconfig)
    clock = Clock.frozen(settings.start or DEFAULT_EPOCH)
    app = MockServer(seed=settings.seed, strict=settings.strict, clock=clock, profile=settings.profile)
    port = _port(pytestconfig)
    message = None
    try:
        server = ServerThread(app, port=port)
    except OSError as exc:  # CannotListen: its text names the address and the reason
        message = f"posthog_mock: the shared server {exc.strerror or exc}"
    except OverflowError:  # the port option plus an xdist worker's number went past 65535
        message = f"posthog_mock: the shared server cannot listen on port {port}: ports end at 65535"
    if message is not None:
        pytest.fail(message, pytrace=False)
    with server as running:
        yield running


@pytest.fixture
def posthog_mock_settings(request: pytest.FixtureRequest) -> Settings:
    """This test's settings: ini options and flags, then its ``posthog_mock`` marker."""
    settings = _session_settings(request.config)
    markers = list(request.node.iter_markers("posthog_mock"))  # the test's own first, then its class's, module's
    if not markers:
        return _with_the_scenarios_clock(settings, {})
    # Markers add up, the nearest winning argument by argument: a class marked
    # clock="private" keeps it for a method that only adds feature_flags.
    arguments: dict[str, Any] = {}
    for marker in reversed(markers):
        if marker.args:
            pytest.fail("posthog_mock marker: pass keyword arguments only", pytrace=False)
        unknown = sorted(set(marker.kwargs) - set(MARKER_ARGUMENTS))
        if unknown:
            pytest.fail(
                f"posthog_mock marker: unknown argument {unknown[0]!r} (known: {', '.join(MARKER_ARGUMENTS)})",
                pytrace=False,
            )
        arguments.update(marker.kwargs)
    message = None
    try:
        merged = settings.merged(arguments)
        if "scenario" in arguments and merged.scenario:
            # Relative paths: from the test file's folder, then the rootdir, then the current one.
            bases = [request.path.parent, request.config.rootpath]
            merged = replace(merged, scenario=resolve_scenario(merged.scenario, bases))
        merged = _with_the_scenarios_clock(merged, arguments)
    except SettingsError as exc:
        message = f"posthog_mock marker: {exc}"
    if message is not None:  # failed outside the handler: one message, not a chain of two
        pytest.fail(message, pytrace=False)
    return merged


@pytest.fixture
def posthog_mock(request: pytest.FixtureRequest, posthog_mock_settings: Settings) -> Iterator[PostHogMock]:
    """This test's fake PostHog: a tenant on the session's server, or (``clock="private"``) its own.

    At teardown: re-raises a bug the fake hit meanwhile; in strict mode, fails if a
    planned fault was never used.
    """
    settings = posthog_mock_settings
    if settings.clock == "private":
        mock = PostHogMock.private_fake(
            seed=settings.seed, start=settings.start, strict=settings.strict,
            scopes=settings.scopes, feature_flags=settings.feature_flags, profile=settings.profile,
        )  # fmt: skip
        restore_strict = None
    else:
        server: ServerThread = request.getfixturevalue("posthog_mock_server")
        app = server.app
        # The profile is the tenant's own: tests of either profile share the one server.
        mock = PostHogMock.on(server, scopes=settings.scopes, feature_flags=settings.feature_flags,
                              profile=settings.profile)  # fmt: skip
        restore_strict = app.strict
        app.strict = settings.strict  # the session's, unless the test's marker says otherwise
        # The store-wide settings a test may change (PUT /_mock/progression/, a scenario's
        # progression): put back at teardown, so that no later test inherits them.
        restore_settings = (app.store.progression, replace(app.store.limits))
        # Faults and latency rules the test adds, for its tenant or for every tenant.
        planned_faults, latency_rules = app.faults.snapshot(), app.latency.snapshot()
    app = mock.app
    seen = len(app.errors)
    try:
        if settings.scenario:
            _load_scenario(mock, settings.scenario)
        if settings.intercept:
            with mock.intercept():
                yield mock
        else:
            yield mock
        new_errors = app.errors[seen:]
        if new_errors:
            raise new_errors[0]
        if settings.strict and not _call_failed(request):
            try:
                mock.assert_faults_used()  # (after a failed test, a second error would only repeat it)
            except UnusedFaults as unused:
                pytest.fail(str(unused), pytrace=False)  # the message says it all: no traceback of the plugin
    finally:
        if restore_strict is not None:
            app.strict = restore_strict
            with app.store.lock:
                app.store.progression, app.store.limits = restore_settings
            app.faults.keep_only(planned_faults)  # the test's own project's faults among them
            app.latency.put_back(latency_rules)
        mock.close()


def _with_the_scenarios_clock(settings: Settings, arguments: dict[str, Any]) -> Settings:
    """A scenario that sets the clock (``clock.start``) gets a private fake: it would move the
    shared server's one clock for every test. A marker that asks for the shared clock with it is refused."""
    if not (settings.scenario and settings.clock == "shared" and _scenario_sets_clock(settings.scenario)):
        return settings
    if arguments.get("clock") == "shared":
        raise SettingsError(
            f'scenario {settings.scenario!r} sets the clock (clock.start): it needs clock="private", '
            "the shared server has one clock for every test"
        )
    return replace(settings, clock="private")


def _scenario_sets_clock(scenario: str) -> bool:
    from mockserver.fixtures import ScenarioError, scenario_sets_clock

    message = None
    try:
        return scenario_sets_clock(scenario)
    except ScenarioError as exc:
        message = f"posthog_mock: {exc}"
    pytest.fail(message, pytrace=False)


def _load_scenario(mock: PostHogMock, scenario: str) -> None:
    """Load the test's scenario; a broken one fails the test with its file:line message alone."""
    from mockserver.fixtures import ScenarioError

    message = None
    try:
        mock.load_scenario(scenario)
    except ScenarioError as exc:
        message = f"posthog_mock: {exc}"
    if message is not None:
        pytest.fail(message, pytrace=False)
