"""``python -m mockserver contract``: check an implementation from a shell or a CI step.

Exit status: 0 the target conforms, 1 it does not, 2 a usage error or a target that cannot
be used (unreachable, or its key refused), 130 interrupted (after cleaning up).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mockserver.http.spec import DEFAULT_PROFILE, PROFILES

if TYPE_CHECKING:
    from mockserver.contract.target import Target

__all__ = ["add_parser", "main"]

EXAMPLE = """\
example:
  python -m mockserver contract --base-url http://127.0.0.1:8000 --api-key phx_... --project-id 1 \\
      --max-examples 25 --junit-xml contract.xml
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    parser: argparse.ArgumentParser = commands.add_parser(
        "contract",
        help="check that an implementation honours the batch-exports contract",
        description="Check any implementation of PostHog's batch-exports API (this fake, real PostHog, another "
        "fake) for status codes, error bodies, pagination, scopes and run-state transitions. It creates objects "
        "named contract-<run id>-<n> in the given project only, and deletes them at the end.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--base-url", required=True, help="where the implementation listens")
    parser.add_argument("--api-key", required=True, help="personal API key with batch_export:read and :write")
    parser.add_argument("--project-id", required=True, type=int, help="the one project the suite may use")
    parser.add_argument("--organization-id", help="the project's organization (for organization-level routes)")
    parser.add_argument("--read-only-api-key", help="a batch_export:read key, for the scope checks")
    parser.add_argument(
        "--max-examples",
        type=int,
        default=100,
        help="examples per state machine and operation (default 100; 25 sends about 5,500 requests)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="fixes every random choice but the names of what it creates (default 0)"
    )
    parser.add_argument("--junit-xml", type=Path, metavar="PATH", help="also write the results as JUnit XML")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these phases: auth, exports, runs, schemathesis, differential (default: all; differential "
        "needs a reference)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one response (default 30)")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=DEFAULT_PROFILE,
        help="the version of PostHog's API the answers are judged by: docs (the public docs, default) or current "
        "(today's PostHog, as PostHog Cloud answers); a fake is asked for tenants of it",
    )
    ref = parser.add_argument_group("differential mode (compare with a reference implementation)")
    ref.add_argument("--reference-url")
    ref.add_argument("--reference-api-key")
    ref.add_argument("--reference-project-id", type=int)
    ref.add_argument("--reference-organization-id")
    ref.add_argument(
        "--reference-read-only-api-key", help="a read-only key of the reference, for the scenarios' read-only steps"
    )
    return parser


def _usage(message: str) -> int:
    print(f"posthog-batch-exports-mock contract: error: {message}", file=sys.stderr)
    return 2


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    """Run the suite as ``args`` say; print the report; return the exit status."""
    from mockserver.contract import wallclock
    from mockserver.contract.progress import Lines
    from mockserver.contract.runner import run_contract, select_phases
    from mockserver.contract.target import Unreachable

    if args.max_examples < 1:
        return _usage("--max-examples must be at least 1")
    if not args.timeout > 0:
        return _usage("--timeout must be more than 0 seconds")
    for flag, url in (("--base-url", args.base_url), ("--reference-url", args.reference_url)):
        problem = url_problem(url) if url is not None else None
        if problem:
            return _usage(f"{flag}: {problem}")
    try:
        select_phases(args.only)
    except ValueError as exc:
        return _usage(str(exc))
    reference_args = (args.reference_url, args.reference_api_key, args.reference_project_id)
    if any(v is not None for v in reference_args) and not all(v is not None for v in reference_args):
        return _usage("--reference-url, --reference-api-key and --reference-project-id go together")
    if args.only and "differential" in args.only and args.reference_url is None:
        # It would run nothing and report that the target conforms.
        return _usage(
            "--only differential needs a reference: --reference-url, --reference-api-key, --reference-project-id"
        )
    target = _target(args, args.base_url, args.api_key, args.project_id, args.organization_id, args.read_only_api_key)
    reference = None
    if args.reference_url:
        reference = _target(
            args,
            args.reference_url,
            args.reference_api_key,
            args.reference_project_id,
            args.reference_organization_id,
            args.reference_read_only_api_key,
        )
    if args.junit_xml:
        # Before the run, not after it: a report that cannot be written is a usage error.
        try:
            args.junit_xml.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return _usage(f"--junit-xml: cannot create {args.junit_xml.parent}: {exc.strerror or exc}")
        if args.junit_xml.is_dir():
            return _usage(f"--junit-xml: {args.junit_xml} is a folder; give a file name")
    for name, candidate in (("target", target), ("reference", reference)):
        if candidate is not None:
            problem = preflight(candidate)
            if problem:
                return _usage(f"{name} {candidate.display_url}: {problem}")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    run_id = wallclock.run_id()
    try:
        report = run_contract(
            target,
            reference=reference,
            max_examples=args.max_examples,
            seed=args.seed,
            only=args.only,
            run_id=run_id,
            progress=Lines(),
        )
    except KeyboardInterrupt:
        print("interrupted: what the suite created has been deleted", file=sys.stderr)
        return 130
    except Unreachable as exc:
        return _usage(f"the target stopped answering: {exc}")
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(report.render())
    if args.junit_xml:
        try:
            args.junit_xml.write_text(report.junit_xml(), encoding="utf-8")
        except OSError as exc:
            return _usage(f"--junit-xml: cannot write {args.junit_xml}: {exc.strerror or exc}")
    if report.unreachable is not None:
        return _usage(f"the target stopped answering: {report.unreachable}")
    return 0 if report.ok else 1


def _target(
    args: argparse.Namespace,
    url: str,
    api_key: str,
    project_id: int,
    organization_id: str | None,
    read_only_api_key: str | None,
) -> Target:
    """A target as the command line names it; the timeout and the profile are the run's, for the
    target and a reference alike."""
    from mockserver.contract.target import Target

    return Target(
        url, api_key, project_id, organization_id, read_only_api_key, timeout=args.timeout, profile=args.profile
    )


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a target's base URL, or ``None``.

    >>> url_problem("http://127.0.0.1:8000"), url_problem("127.0.0.1:8000")
    (None, "expected http://host[:port] or https://host[:port], got '127.0.0.1:8000'")
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"expected http://host[:port] or https://host[:port], got {url!r}"
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return f"not a port number in {url!r}"
    return None


def preflight(target: object) -> str | None:
    """Why ``target`` cannot be used, or ``None``: unreachable, a key refused or of the wrong
    scope, an organization that is not the key's.

    Each key's scope is read without changing anything: an empty create is refused with a
    400 (validation) to a key that may write, with a 403 to one that may not.
    """
    from mockserver.contract.target import Client, Target, Unreachable

    assert isinstance(target, Target)
    listing = f"/api/projects/{target.project_id}/batch_exports/"
    try:
        transport = target.connect()
        client = Client(transport, target.api_key)
        response = client.get(f"{listing}?limit=1")
        if response.status in (401, 403):
            return f"the API key was refused for project {target.project_id} ({response.status}: {_said(response)})"
        if response.status != 200:
            return f"listing batch exports answered {response.status}, not 200: {_said(response)}"
        probe = client.post(listing, {})
        if probe.status == 403:
            return f"the API key may not write batch exports ({_said(probe)}); the suite needs batch_export:write"
        if target.organization_id is not None:
            org = client.get(f"/api/organizations/{target.organization_id}/batch_exports/?limit=1")
            if org.status != 200:
                return (
                    f"--organization-id {target.organization_id}: listing its batch exports answered {org.status}, "
                    f"not 200 ({_said(org)})"
                )
        if target.read_only_api_key:
            reader = Client(transport, target.read_only_api_key)
            read = reader.get(f"{listing}?limit=1")
            if read.status != 200:
                return f"--read-only-api-key: listing batch exports answered {read.status}, not 200 ({_said(read)})"
            if reader.post(listing, {}).status != 403:
                return (
                    "--read-only-api-key may write batch exports (an empty create was not refused with 403): "
                    "the scope checks need a key with batch_export:read alone"
                )
    except Unreachable as exc:
        reason = _reason(exc)
        if reason == "timed out":
            return f"no answer within {target.timeout:g} s (--timeout)"
        return f"unreachable ({reason})"
    return None


def _said(response: object, limit: int = 200) -> str:
    """What an answer says, shortly: a PostHog error's ``code`` and whole ``detail``, else the body's start.

    >>> from mockserver.contract.target import Response
    >>> _said(Response(401, {}, b'{"type":"authentication_error","code":"authentication_failed","detail":"No."}'))
    'authentication_failed: No.'
    >>> _said(Response(502, {}, b"<html>" + b"x" * 300), limit=10)
    '<html>xxxx…'
    """
    from mockserver.contract.target import Response

    assert isinstance(response, Response)
    body = response.json
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return f"{body.get('code')}: {body['detail']}" if body.get("code") else body["detail"]
    text = " ".join(response.text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _reason(exc: BaseException) -> str:
    """The short reason inside a connection error (``Connection refused``, ``timed out``…)."""
    text = str(exc.__cause__ or exc)
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if found:
        return found.group(1).strip()
    return "timed out" if "timed out" in text.lower() else text[:160]
