"""``python -m mockserver serve``: the fake as a standalone server on localhost.

Example::

    python -m mockserver serve --port 8000 --seed 1 --print-tenant
    python -m mockserver serve --scenario failing-snowflake --state-file .mock-state --access-log -

Ctrl-C and SIGTERM stop it cleanly (saving ``--state-file`` first, when given).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.clock import DEFAULT_EPOCH, Clock
from mockserver.domain.store import Store
from mockserver.http.app import MockServer
from mockserver.http.body import DEFAULT_MAX_BODY_BYTES, DEFAULT_READ_TIMEOUT, BodyLimits
from mockserver.http.journal import DEFAULT_MAX_BYTES as DEFAULT_JOURNAL_BYTES
from mockserver.http.spec import PROFILES
from mockserver.persistence import StateFileError, apply_state, read_state, save_state
from mockserver.server import (
    GRACE_SECONDS,
    AccessLog,
    CannotListen,
    FrozenHeap,
    ServerThread,
    WSGIApp,
    granian_available,
    serve_granian,
)

if TYPE_CHECKING:
    from mockserver.fixtures import Scenario

__all__ = ["build_parser", "main"]


#: Where ``serve`` reads ``--control-plane-token`` from when the option is not given.
CONTROL_TOKEN_ENV = "POSTHOG_MOCK_CONTROL_PLANE_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posthog-batch-exports-mock",
        description="A fake of PostHog's batch-exports API, served on localhost.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fake API over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument("--seed", type=int, default=0, help="seed for every id and generated value")
    serve.add_argument("--strict", action="store_true", help="validate every response against the spec")
    serve.add_argument(
        "--clock",
        choices=["real", "frozen"],
        default="real",
        help="real: virtual time follows the wall clock (times --clock-speed); frozen: moves only via /_mock/clock",
    )
    serve.add_argument(
        "--clock-speed",
        type=float,
        default=None,
        help="with --clock real: virtual seconds per wall second (default 1; 60 = an hour a minute)",
    )
    serve.add_argument(
        "--start",
        default=None,
        help="virtual start time (ISO 8601; without a zone, UTC); default: now (real clock) or a fixed epoch (frozen)",
    )
    serve.add_argument(
        "--journal-size", type=int, default=1000, help="requests the journal (/_mock/journal/) keeps; 0 keeps none"
    )
    serve.add_argument(
        "--journal-bytes",
        type=int,
        default=DEFAULT_JOURNAL_BYTES,
        help="bytes of request and response bodies the journal keeps in all (default: 64 MiB)",
    )
    serve.add_argument(
        "--control-plane-token",
        default=os.environ.get(CONTROL_TOKEN_ENV) or None,
        help="let clients on other machines use /_mock/ when they send this in X-Mock-Control-Token "
        f"(default: ${CONTROL_TOKEN_ENV}, which keeps it out of the process list)",
    )
    serve.add_argument(
        "--unsafe-open-control-plane",
        action="store_true",
        help="let every client use /_mock/ (it hands out every tenant's keys and secrets)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help="largest request body accepted; larger ones get 413 (default: 10 MiB)",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=DEFAULT_READ_TIMEOUT,
        help="seconds a client may take to send its body; slower ones get 408",
    )
    serve.add_argument(
        "--server",
        choices=["auto", "granian", "werkzeug"],
        default="auto",
        help="granian (keep-alive, fastest; the 'serve' extra) or werkzeug's threaded server; auto prefers granian",
    )
    serve.add_argument(
        "--profile",
        choices=PROFILES,
        default="docs",
        help="which PostHog API to play: docs (as its public docs describe it) or current (today's, with the "
        'hogql model); a tenant may pick its own (POST /_mock/tenants/ {"profile": ...})',
    )
    serve.add_argument("--print-tenant", action="store_true", help="create a tenant and print its ids and key")
    serve.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="FILE_OR_NAME",
        help="load a scenario (a YAML file, or a shipped one by name) into a new tenant; repeatable",
    )
    serve.add_argument(
        "--state-file",
        default=None,
        metavar="PATH",
        help="load the state from PATH at start (if it exists) and save it there, atomically, at shutdown",
    )
    serve.add_argument(
        "--access-log",
        default=None,
        metavar="PATH",
        help="write one Common Log Format line per request to PATH ('-' for standard output)",
    )
    serve.add_argument("--verbose", action="store_true", help="log every request (same as --access-log -)")
    from mockserver.contract.cli import add_parser as add_contract_parser

    add_contract_parser(commands)
    return parser


def _clock(args: argparse.Namespace, resume_at: datetime | None = None) -> Clock:
    """The clock ``--clock``/``--start`` ask for, never earlier than a saved state's time."""
    from mockserver.domain.dates import parse_datetime

    start = parse_datetime(args.start) if args.start else None  # without a zone: UTC, as the API reads it
    if args.start and start is None:
        raise SystemExit(f"--start: not an ISO 8601 datetime (e.g. 2026-01-01T00:00:00Z): {args.start!r}")
    speed = args.clock_speed
    if speed is not None and args.clock == "frozen":
        raise SystemExit("--clock-speed: a frozen clock has no speed (use --clock real, the default)")
    if speed is not None and not 0 < speed <= 1e6:  # also refuses nan
        raise SystemExit(f"--clock-speed: must be more than 0 and at most 1000000, not {speed:g}")
    if args.clock == "frozen":
        clock = Clock.frozen(start or resume_at or DEFAULT_EPOCH)
    else:
        clock = Clock.real(start, speed=1.0 if speed is None else speed)
    if resume_at is not None and clock.now() < resume_at:
        if start is not None:
            print(f"--start {args.start} is before the saved state's time: the clock resumes at "
                  f"{resume_at.isoformat()} (it never runs backwards for saved objects)", file=sys.stderr)  # fmt: skip
        clock.set(resume_at)  # time never runs backwards for the saved objects
    return clock


def _server_kind(args: argparse.Namespace) -> str:
    """granian when asked or available, but werkzeug whenever the state must be saved at exit.

    granian answers from a worker process it forks: the state lives there, out of reach of
    the process that would save it.
    """
    if args.server == "granian" and args.state_file:
        raise SystemExit("--state-file needs --server werkzeug (granian's worker process holds the state)")
    if args.server != "auto":
        return str(args.server)
    return "granian" if granian_available() and not args.state_file else "werkzeug"


def _access_log(app: WSGIApp, target: str | None) -> tuple[WSGIApp, Callable[[], None]]:
    """``app`` wrapped to log each request to ``target`` (a path, or ``-``), and how to close the log."""
    if target is None:
        return app, lambda: None
    if target == "-":
        return AccessLog(app, lambda line: print(line, end="", flush=True)), lambda: None
    log = open(target, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - closed at shutdown
    return AccessLog(app, log.write), log.close


def _load_scenarios(app: MockServer, names: Sequence[str]) -> list[Scenario]:
    from mockserver.fixtures import ScenarioError, load_scenario

    loaded = []
    for name in names:
        try:
            loaded.append(load_scenario(name, app))
        except ScenarioError as exc:
            raise SystemExit(f"--scenario: {exc}") from None
    return loaded


def _scenario_key(name: str) -> str:
    """How the state file knows a scenario: a shipped one by name, a file by its absolute path
    (``./ours.yaml`` and ``/srv/ours.yaml`` are one scenario when they are one file)."""
    from mockserver.fixtures import shipped_scenarios

    if name in shipped_scenarios():
        return name
    return str(Path(name).resolve())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "contract":
        from mockserver.contract.cli import main as contract_main

        return contract_main(args)
    saved = _saved_state(args.state_file)
    store = Store(seed=args.seed, clock=_clock(args, saved["now"] if saved else None), profile=args.profile)
    if args.command == "serve" and not 0 <= args.port <= 65535:
        raise SystemExit(f"--port: must be 0 to 65535 (0 picks a free one), not {args.port}")
    if args.journal_size < 0:
        raise SystemExit("--journal-size: must be >= 0")
    if args.max_body_bytes < 0:
        raise SystemExit("--max-body-bytes: must be >= 0")
    if not args.body_timeout > 0:
        raise SystemExit("--body-timeout: must be > 0")
    limits = BodyLimits(max_bytes=args.max_body_bytes, timeout=args.body_timeout)
    if args.journal_bytes < 0:
        raise SystemExit("--journal-bytes: must be >= 0")
    if args.control_plane_token is not None and not args.control_plane_token:
        raise SystemExit("--control-plane-token: must not be empty")
    app = MockServer(
        store,
        strict=args.strict,
        journal_size=args.journal_size,
        journal_bytes=args.journal_bytes,
        body_limits=limits,
        control_plane_token=args.control_plane_token,
        open_control_plane=args.unsafe_open_control_plane,
    )
    if saved is not None:
        apply_state(app, saved)
        app.backend.engine.catch_up()  # what fell due while the fake was stopped
    server = _server_kind(args)
    if server == "granian" and not granian_available():
        raise SystemExit("--server granian: install the 'serve' extra: pip install 'posthog-batch-exports-mock[serve]'")
    # Scenarios make new tenants: the state file records those it holds already, which are not
    # loaded again (each restart would add another copy). A reset forgets their tenants.
    held: list[str] = [_scenario_key(n) for n in saved.get("scenarios", ())] if saved is not None else []
    skipped = [name for name in args.scenario if _scenario_key(name) in held]
    fresh = [name for name in args.scenario if _scenario_key(name) not in held]
    scenarios = _load_scenarios(app, fresh)
    held += [_scenario_key(name) for name in fresh]
    store.reset_listeners.append(held.clear)
    # --print-tenant prints the same tenant on every start from a state file, not a new one each time.
    printed: str | None = saved.get("printed_tenant") if saved is not None else None
    kept = store.tenant(printed) if args.print_tenant and printed is not None else None
    tenant = kept or (store.create_tenant() if args.print_tenant else None)
    # A reset forgets it (a later tenant may get its reseeded id, with other scopes).
    printed_ids = [tenant.organization_id] if tenant is not None else [printed] if printed else []
    store.reset_listeners.append(printed_ids.clear)
    wsgi, close_log = _access_log(FrozenHeap(app), "-" if args.verbose and not args.access_log else args.access_log)

    def announce(port: int) -> None:
        """Say where the fake listens, once it does."""
        url = base_url(args.host, port)
        print(f"PostHog batch-exports mock listening on {url} ({server})", flush=True)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(
                "warning: a test tool, reachable from other machines: never expose it to a network you do not "
                "trust" + ("; /_mock/ is OPEN to all" if args.unsafe_open_control_plane else ""),
                file=sys.stderr,
                flush=True,
            )
        if saved is not None:
            print(f"State loaded from {args.state_file} (saved at {saved['now'].isoformat()})", flush=True)
            for name in skipped:
                print(f"Scenario {name!r} not loaded again: the state holds what it made before.", flush=True)
        for scenario in scenarios:
            assert scenario.tenant is not None
            print(f"Scenario {scenario.name!r} loaded into project {scenario.tenant.project_id}:", flush=True)
            print(json.dumps(scenario.to_dict(), indent=2), flush=True)
        if tenant is not None:
            again = " (the one printed before, kept in the state file)" if kept is not None else ""
            print(f"A ready tenant{again}; create more with POST /_mock/tenants/:", flush=True)
            print(json.dumps(tenant.to_dict(), indent=2), flush=True)
            listing = f"{url}/api/projects/{tenant.project_id}/batch_exports/"
            print(f'\ncurl -H "Authorization: Bearer {tenant.api_key}" {listing}', flush=True)
        print(f"Tenants, exports and runs: {url}/ · the spec: {url}/api/schema/", flush=True)

    if server == "granian":
        # granian handles SIGTERM and Ctrl-C itself: requests in flight get the grace period.
        try:
            serve_granian(wsgi, args.host, args.port, on_ready=announce, warm_up=app.warm_up)
        except CannotListen as exc:
            raise SystemExit(f"--port: {exc.strerror}") from None
        finally:
            close_log()
        return 0
    try:
        running = ServerThread(app, args.host, args.port, wsgi=wsgi)  # binds
    except CannotListen as exc:
        close_log()
        raise SystemExit(f"--port: {exc.strerror}") from None
    try:
        return _serve_until_signalled(running, announce, app.warm_up)
    finally:
        if args.state_file:
            # After the last request finished. A reset forgot the printed tenant: the next start makes one.
            try:
                save_state(app, args.state_file, scenarios=held, printed_tenant=printed_ids[0] if printed_ids else None)
            except OSError as exc:  # the folder went away or became read-only while serving
                print(f"--state-file: could not save to {args.state_file}: {exc.strerror or exc}", file=sys.stderr)
                return 1
            print(f"State saved to {args.state_file}", flush=True)
        close_log()


def _serve_until_signalled(running: ServerThread, announce: Callable[[int], None], warm_up: Callable[[], None]) -> int:
    """Serve on a thread until SIGTERM or Ctrl-C, then stop gracefully and return 0.

    The signals are caught before ``announce`` says where the fake listens: a SIGTERM
    sent as soon as that line appears still stops it gracefully (and saves the state).
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        running.start()  # first: stopping a server that never started would wait forever
        announce(running.port)
        threading.Thread(target=warm_up, name="mockserver-warm-up", daemon=True).start()
        while not stop.wait(0.5):
            pass
    finally:
        finished = running.stop(grace=GRACE_SECONDS)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not finished:
        print(f"stopped with requests still in flight after {GRACE_SECONDS:g} s", file=sys.stderr, flush=True)
    return 0


def _saved_state(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    _check_writable(Path(path))
    if not Path(path).exists():
        return None
    try:
        return read_state(path)
    except StateFileError as exc:
        raise SystemExit(f"--state-file: {exc}") from None


def base_url(host: str, port: int) -> str:
    """Where a client reaches ``serve``: an IPv6 address goes in brackets.

    >>> base_url("127.0.0.1", 8000), base_url("::1", 8000)
    ('http://127.0.0.1:8000', 'http://[::1]:8000')
    """
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _check_writable(target: Path) -> None:
    """Refuse at start a state file that could not be saved at exit (the session's work would be lost)."""
    if target.is_dir():
        raise SystemExit(f"--state-file: {target} is a folder; give a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}."):
            pass
    except OSError as exc:
        raise SystemExit(f"--state-file: {target}: cannot be written there ({exc.strerror or exc})") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
