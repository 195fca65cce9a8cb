"""The contract suite, run against the fake it was written for, and against targets it must refuse.

The unbroken fake conforms in process and served on localhost; the command exits 0, 1 or
2 as documented and writes JUnit XML; a target without the control plane keeps every
object the suite did not create, and loses every object it did, even when interrupted.
(``tests/mutants/`` holds the deliberately broken fakes the suite must fail.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import call, without_control_plane

from mockserver import MockServer, Tenant
from mockserver.contract import Report, Target, run_contract
from mockserver.contract.differential import SCENARIOS
from mockserver.contract.progress import Progress
from mockserver.contract.target import Exchange
from mockserver.server import ServerThread, free_port

#: The domain phases; schemathesis has tests of its own (tests/test_contract_schemathesis.py).
DOMAIN = ["auth", "exports", "runs"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def target_for(app: WSGIApp, tenant: Tenant, **kwargs: Any) -> Target:
    return Target.in_process(app, api_key=tenant.api_key, project_id=tenant.project_id, **kwargs)


def never_deleting(app: WSGIApp) -> WSGIApp:
    """The fake with a delete that answers 204 and keeps the export."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "DELETE" and "/batch_exports/" in environ["PATH_INFO"]:
            start_response("204 No Content", [])
            return [b""]
        return app(environ, start_response)

    return wsgi


@pytest.fixture
def served() -> Iterator[tuple[ServerThread, Tenant]]:
    app = MockServer(strict=True)
    with ServerThread(app) as running:
        yield running, app.store.create_tenant()
    assert not app.errors, app.errors


def test_the_fake_conforms_in_process(server: MockServer, tenant: Tenant) -> None:
    report = run_contract(target_for(server, tenant), max_examples=10, seed=3, only=DOMAIN)
    assert report.ok, report.render()
    assert {p.name for p in report.phases} == set(DOMAIN)
    assert report.counts()["passed"] >= 20
    assert report.leftovers == []


def test_the_fake_conforms_served_on_localhost(served: tuple[ServerThread, Tenant]) -> None:
    running, tenant = served
    target = Target(running.url, tenant.api_key, tenant.project_id)
    report = run_contract(target, max_examples=5, seed=1, only=DOMAIN)
    assert report.ok, report.render()
    assert report.requests > 100


def test_the_same_seed_asks_the_same_questions() -> None:
    def requests_made() -> list[str]:
        server = MockServer()
        tenant = server.store.create_tenant()
        seen: list[str] = []

        class Record(Progress):
            def request(self, exchange: Exchange) -> None:
                seen.append(f"{exchange.method} {exchange.url}")

        run_contract(target_for(server, tenant), max_examples=3, seed=7, only=["exports"], progress=Record())
        return seen

    assert requests_made() == requests_made()


def test_without_a_control_plane_only_what_it_created_is_touched_and_all_of_it_deleted(
    server: MockServer, tenant: Tenant
) -> None:
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    body = {"name": "someone else's export", "interval": "day", "destination": {"type": "NoOp", "config": {}}}
    path = f"/api/projects/{tenant.project_id}/batch_exports/"
    theirs = call(server, "POST", path, json=body, headers=headers).json
    read_only = server.store.create_api_key(tenant.project_id, ["batch_export:read"]).value

    target = target_for(without_control_plane(server), tenant, read_only_api_key=read_only)
    report = run_contract(target, max_examples=5, seed=2, only=["auth", "exports"])

    assert report.ok, report.render()
    assert not [s for p in report.phases for s in p.skips if s.prop == "auth.read-only"]
    assert any(s.prop == "auth.isolation" for p in report.phases for s in p.skips)
    after = call(server, "GET", f"/api/projects/{tenant.project_id}/batch_exports/{theirs['id']}/", headers=headers)
    assert after.json == theirs
    live = [e for e in server.store.batch_exports.values() if not e.deleted]
    assert [e.name for e in live] == ["someone else's export"]
    assert sum(e.name.startswith("contract-") for e in server.store.batch_exports.values()) > 0


def test_runs_created_by_the_targets_own_clock_between_two_reads_are_no_violation(
    server: MockServer, tenant: Tenant
) -> None:
    """On real PostHog the clock moves on its own: a scheduled run may appear between the suite's
    reads. Here every read of one export moves the fake's clock an hour first (a run each time)."""
    export_path = re.compile(rf"^/api/projects/{tenant.project_id}/batch_exports/[0-9a-f-]{{36}}/$")

    def clock_moves_on_its_own(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "GET" and export_path.match(environ["PATH_INFO"]):
            server.store.clock.advance(3600)
            server.backend.engine.catch_up()
        return server(environ, start_response)

    target = target_for(without_control_plane(clock_moves_on_its_own), tenant)
    report = run_contract(target, max_examples=3, seed=1, only=["runs"])
    assert report.ok, report.render()


def test_a_cancel_answered_200_for_a_run_that_ended_meanwhile_is_no_violation(
    server: MockServer, tenant: Tenant
) -> None:
    """PostHog answers a cancel 200 even when the run ended between the suite's read and its
    cancel. Here every cancel of a run finds it ended: the fake's clock jumps a day first, and
    the answer is PostHog's quiet 200."""
    cancel = re.compile(rf"^/api/projects/{tenant.project_id}/batch_exports/[^/]+/runs/[^/]+/cancel/$")

    def run_ends_before_the_cancel(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST" and cancel.match(environ["PATH_INFO"]):
            server.store.clock.advance(24 * 3600)
            server.backend.engine.catch_up()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"cancelled": true}']
        return server(environ, start_response)

    target = target_for(without_control_plane(run_ends_before_the_cancel), tenant)
    report = run_contract(target, max_examples=5, seed=2, only=["runs"])
    assert report.ok, report.render()


def test_an_interrupted_run_still_deletes_what_it_created(server: MockServer, tenant: Tenant) -> None:
    class StopAfter(Progress):
        def __init__(self) -> None:
            self.count = 0

        def request(self, exchange: Exchange) -> None:
            self.count += 1
            if self.count == 60:
                raise KeyboardInterrupt

    target = target_for(without_control_plane(server), tenant)
    with pytest.raises(KeyboardInterrupt):
        run_contract(target, max_examples=20, only=["exports"], progress=StopAfter())
    assert [e.name for e in server.store.batch_exports.values() if not e.deleted] == []


def test_an_interrupt_on_a_creates_answer_still_deletes_that_export(server: MockServer, tenant: Tenant) -> None:
    """The export is remembered as its 201 arrives, before a progress callback can stop the run."""

    class StopAtFirstCreate(Progress):
        def request(self, exchange: Exchange) -> None:
            if exchange.method == "POST" and exchange.response.status == 201:
                raise KeyboardInterrupt

    target = target_for(without_control_plane(server), tenant)
    with pytest.raises(KeyboardInterrupt):
        run_contract(target, max_examples=5, only=["exports"], progress=StopAtFirstCreate())
    assert [e.name for e in server.store.batch_exports.values() if not e.deleted] == []


def test_without_a_read_only_key_the_scope_checks_are_skipped_and_say_why(server: MockServer, tenant: Tenant) -> None:
    report = run_contract(target_for(without_control_plane(server), tenant), max_examples=3, only=["auth"])
    assert report.ok
    skips = {skip.prop: skip.reason for skip in report.phases[0].skips}
    assert set(skips) == {"auth.read-only", "auth.scoped-projects"}
    assert "--read-only-api-key" in skips["auth.read-only"]
    assert "control plane" in skips["auth.scoped-projects"]


def test_differential_mode_finds_no_difference_between_two_fakes(server: MockServer, tenant: Tenant) -> None:
    other = MockServer()
    report = run_contract(
        target_for(server, tenant), reference=target_for(other, other.store.create_tenant()), only=["differential"]
    )
    assert report.ok, report.render()
    assert report.phases[0].passes == [f"same-as-reference.{name}" for name in SCENARIOS]


def test_differential_mode_says_which_read_only_steps_it_left_out(server: MockServer, tenant: Tenant) -> None:
    other = MockServer()
    theirs = other.store.create_tenant()
    reference = target_for(without_control_plane(other), theirs)  # no control plane to mint a read-only key
    report = run_contract(target_for(server, tenant), reference=reference, only=["differential"])

    assert report.ok, report.render()
    (phase,) = report.phases
    assert phase.skips and all(s.prop.endswith("(read-only steps)") for s in phase.skips)
    assert "no read-only key for the reference (--read-only-api-key, --reference-read-only-api-key)" in report.render()
    with_key = target_for(
        without_control_plane(other), theirs,
        read_only_api_key=other.store.create_api_key(theirs.project_id, ["batch_export:read"]).value,
    )  # fmt: skip
    assert run_contract(target_for(server, tenant), reference=with_key, only=["differential"]).phases[0].skips == []


def test_differential_mode_reports_a_status_and_an_error_code_that_differ(server: MockServer, tenant: Tenant) -> None:
    def lenient(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Another implementation that says 'invalid' where PostHog says 'invalid_choice'."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]]) -> None:
            captured["status"], captured["headers"] = status, headers

        body = b"".join(server(environ, capture))
        body = body.replace(b'"code":"invalid_choice"', b'"code":"invalid"')
        headers = [(k, str(len(body)) if k == "Content-Length" else v) for k, v in captured["headers"]]
        start_response(captured["status"], headers)
        return [body]

    other = MockServer()
    report = run_contract(
        target_for(lenient, tenant), reference=target_for(other, other.store.create_tenant()), only=["differential"]
    )
    assert not report.ok
    (violation,) = report.violations
    assert violation.prop == "same-as-reference.export-validation"
    assert "error code 'invalid' here, 'invalid_choice' on the reference" in violation.detail
    assert violation.requests and violation.requests[0].startswith("curl -X POST")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "contract", *args], capture_output=True, text=True, timeout=300
    )


def test_the_command_exits_0_and_writes_junit_against_the_served_fake(
    served: tuple[ServerThread, Tenant], tmp_path: Path
) -> None:
    running, tenant = served
    junit = tmp_path / "reports" / "contract.xml"  # a folder that does not exist yet is made
    result = cli(
        "--base-url",
        running.url,
        "--api-key",
        tenant.api_key,
        "--project-id",
        str(tenant.project_id),
        "--max-examples",
        "3",
        "--only",
        *DOMAIN,
        "--junit-xml",
        str(junit),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the target conforms" in result.stdout
    assert "▶ exports" in result.stderr and "✔ runs" in result.stderr
    suites = ET.parse(junit).getroot()
    assert [s.get("name") for s in suites] == DOMAIN
    assert all(s.get("failures") == "0" for s in suites)


def test_the_command_exits_2_with_one_line_for_an_unreachable_target() -> None:
    result = cli("--base-url", "http://127.0.0.1:9", "--api-key", "phx_x", "--project-id", "1")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unreachable (Connection refused)" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_exits_2_when_the_key_is_refused(served: tuple[ServerThread, Tenant]) -> None:
    running, tenant = served
    result = cli("--base-url", running.url, "--api-key", "phx_wrong", "--project-id", str(tenant.project_id))
    assert result.returncode == 2
    assert "the API key was refused" in result.stderr
    # PostHog's own words, whole: the error's code and detail, not a cut-off JSON body.
    assert "(401: authentication_failed: " in result.stderr and result.stderr.rstrip().endswith(".)")


def test_keys_and_organization_are_checked_before_anything_runs(served: tuple[ServerThread, Tenant]) -> None:
    """A misconfigured key is the user's mistake (exit 2), not the target failing the contract (exit 1).

    Scopes are read without a trace: an empty create is a 400 to a key that may write, a 403 to one that may not.
    """
    running, tenant = served
    reader = running.app.store.create_api_key(tenant.project_id, ["batch_export:read"]).value
    base = ["--base-url", running.url, "--project-id", str(tenant.project_id)]
    cases = [
        (["--api-key", reader], "the API key may not write batch exports ("),
        (["--api-key", tenant.api_key, "--read-only-api-key", tenant.api_key], "--read-only-api-key may write"),
        (["--api-key", tenant.api_key, "--read-only-api-key", "phx_wrong"], "--read-only-api-key: listing batch "
                                                                              "exports answered 401"),
        (["--api-key", tenant.api_key, "--organization-id", "nope"], "--organization-id nope: listing its batch "
                                                                       "exports answered 404"),
    ]  # fmt: skip
    for args, message in cases:
        result = cli(*base, *args, "--only", "auth")
        assert (result.returncode, result.stderr.count("\n")) == (2, 1), result.stderr
        assert message in result.stderr
    assert running.app.store.batch_exports == {}


def test_a_target_that_never_answers_is_named_as_such() -> None:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = cli("--base-url", url, "--api-key", "phx_x", "--project-id", "1", "--timeout", "0.3")
    assert result.returncode == 2
    assert "no answer within 0.3 s (--timeout)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "nonsense"], "unknown phase(s) nonsense"),
        (["--max-examples", "0"], "--max-examples must be at least 1"),
        (["--reference-url", "http://127.0.0.1:9"], "go together"),
        (["--timeout", "0"], "--timeout must be more than 0 seconds"),
        # It would check nothing and say the target conforms.
        (["--only", "differential"], "--only differential needs a reference"),
        (["--base-url", "127.0.0.1:9"], "--base-url: expected http://host[:port] or https://host[:port], got"),
        (["--base-url", "ftp://x"], "--base-url: expected http://host[:port]"),
        # Checked before the run, not after it (the report would say "conforms", then crash).
        (["--junit-xml", "."], "--junit-xml: . is a folder; give a file name"),
    ],
)
def test_the_command_exits_2_on_a_usage_error(args: list[str], message: str) -> None:
    result = cli("--base-url", "http://127.0.0.1:9", "--api-key", "phx_x", "--project-id", "1", *args)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert message in result.stderr


def test_a_target_that_stops_answering_mid_run_ends_the_run_with_exit_2() -> None:
    """A timeout is no verdict on the contract: the run stops there, one line says why, and
    what the suite made is still deleted."""
    app = MockServer()
    tenant = app.store.create_tenant()

    def slow_runs(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].endswith("/runs/"):
            threading.Event().wait(2)
        return app(environ, start_response)

    with ServerThread(app, wsgi=slow_runs) as running:
        base = ["--base-url", running.url, "--api-key", tenant.api_key, "--project-id", str(tenant.project_id)]
        result = cli(*base, "--only", "runs", "schemathesis", "--max-examples", "3", "--timeout", "1")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: the target stopped answering: GET " in result.stderr.rstrip().splitlines()[-1]
    assert "Traceback" not in result.stderr and "response-shape" not in result.stdout
    # The phase it never started is listed as skipped, and the report gives no verdict.
    assert re.search(r"schemathesis +0 passed +0 failed +1 skipped +0 requests", result.stdout), result.stdout
    # The phase that stopped counts as failed in its row as in the total line, which must agree.
    rows = re.findall(r"^ +(?:ok|FAIL) +\w+ +\d+ passed +(\d+) failed", result.stdout, flags=re.M)
    total = re.search(r"^\d+ passed, (\d+) failed", result.stdout, flags=re.M)
    assert total is not None and sum(map(int, rows)) == int(total.group(1)) == 1, result.stdout
    assert "[schemathesis] schemathesis: not run: the target stopped answering" in result.stdout
    assert result.stdout.rstrip().endswith("no verdict: the target stopped answering, and the run stopped there.")
    assert not [e for e in app.store.batch_exports.values() if not e.deleted]


def test_properties_a_run_never_reached_are_skipped_not_passed(server: MockServer, tenant: Tenant) -> None:
    def creates_fail(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/batch_exports/"):
            start_response("500 Internal Server Error", [("Content-Type", "text/html")])
            return [b"<h1>Server Error</h1>"]
        return server(environ, start_response)

    report = run_contract(target_for(creates_fail, tenant), max_examples=5, seed=0, only=["exports"])

    (phase,) = report.phases
    assert [v.prop for v in phase.violations] == ["no-server-error"]
    # Only a read of the empty list came before the first create (the check of a large page, made
    # before the examples); a delete never happened.
    assert phase.passes == ["pagination.count", "response-shape"]
    assert {s.prop for s in phase.skips} >= {"delete.gone", "pause.idempotent", "pagination.walk"}
    assert {s.reason for s in phase.skips} == {"not reached: the run stopped at no-server-error"}


def test_what_every_answer_checks_passes_when_a_later_property_breaks(server: MockServer, tenant: Tenant) -> None:
    report = run_contract(target_for(never_deleting(server), tenant), max_examples=10, seed=0, only=["exports"])

    (phase,) = report.phases
    assert [v.prop for v in phase.violations] == ["delete.gone"]
    assert {"no-server-error", "response-shape"} <= set(phase.passes)


def test_a_violation_is_reported_with_what_was_expected_and_curl_lines_to_replay_it(
    server: MockServer, tenant: Tenant
) -> None:
    report = run_contract(target_for(never_deleting(server), tenant), max_examples=10, seed=0, only=["exports"])
    assert not report.ok
    text = report.render()
    assert "[exports] delete.gone" in text and "expected: " in text
    assert "reproduce with:" in text and "curl -X DELETE" in text
    assert text.rstrip().endswith("the target does NOT conform.")
    # Against the fake, the phase worked in a tenant of its own: its key is shown as it is.
    shown = set(re.findall(r"Bearer (phx_\w+)", text))
    assert shown and tenant.api_key not in shown
    assert shown <= set(server.store.api_keys)


def test_reproduce_lines_hide_the_keys_given(server: MockServer, tenant: Tenant) -> None:
    """Without the fake's control plane (as against PostHog), the suite uses the keys it was given: never shown."""

    def no_control_plane_and_never_deletes(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"].startswith("/_mock/"):
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"type":"invalid_request","code":"not_found","detail":"Not found.","attr":null}']
        if environ["REQUEST_METHOD"] == "DELETE" and "/batch_exports/" in environ["PATH_INFO"]:
            start_response("204 No Content", [])
            return [b""]
        return server(environ, start_response)

    report = run_contract(target_for(no_control_plane_and_never_deletes, tenant), max_examples=5, only=["exports"])
    text = report.render()
    assert not report.ok and "reproduce with:" in text
    assert '"Authorization: Bearer $POSTHOG_API_KEY"' in text and tenant.api_key not in text


def test_junit_xml_names_each_violated_property(server: MockServer, tenant: Tenant) -> None:
    report = Report(target="x")
    phase = report.phase("exports")
    phase.passed("pagination.count")
    from mockserver.contract import Violation

    phase.failed(Violation("delete.gone", "404", "200", ["curl -X GET x"]))
    root = ET.fromstring(report.junit_xml().split("\n", 1)[1])
    (suite,) = root
    assert suite.get("failures") == "1"
    failure = suite.find("testcase[@name='delete.gone']/failure")
    assert failure is not None and failure.get("message") == "expected 404, got 200"


def test_junit_xml_names_each_violation_once_and_fails_on_leftovers() -> None:
    from mockserver.contract import Violation

    report = Report(target="x")
    phase = report.phase("schemathesis")
    for _ in range(2):
        phase.failed(Violation("ST:response_schema_conformance", "a body", "another", []))
    report.leftovers = ["batch export 'contract-s0-1' (/api/projects/1/batch_exports/x/)"]
    root = ET.fromstring(report.junit_xml().split("\n", 1)[1])
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == [
        "ST:response_schema_conformance",
        "ST:response_schema_conformance (2)",
        "everything created was deleted",
    ]
    leftover = root.find("testsuite[@name='cleanup']/testcase/failure")
    assert leftover is not None and "contract-s0-1" in (leftover.text or "")


README = (Path(__file__).parent.parent / "README.md").read_text()
CI_SECTION = README.split("## Contract checks in CI", 1)[1].split("\n## ", 1)[0]


def readme_block(language: str) -> str:
    (block,) = re.findall(rf"```{language}\n(.*?)```", CI_SECTION, flags=re.S)
    return str(block)


def test_the_readme_python_example_runs() -> None:
    exec(compile(readme_block("python"), "README.md", "exec"), {})


def test_the_readme_command_conforms_against_a_served_fake(served: tuple[ServerThread, Tenant]) -> None:
    running, tenant = served
    # The schemathesis phase has tests of its own (tests/test_contract_schemathesis.py).
    command = readme_block("sh").replace("python -m", f"{sys.executable} -m")
    command = command.replace("--max-examples 25", "--max-examples 3 --only auth exports runs")
    env = {
        **os.environ,
        "BASE": running.url,
        "POSTHOG_API_KEY": tenant.api_key,
        "POSTHOG_PROJECT_ID": str(tenant.project_id),
    }
    with tempfile.TemporaryDirectory() as here:
        result = subprocess.run(["bash", "-c", command], env=env, cwd=here, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert (Path(here) / "contract.xml").exists()


def test_the_readme_ci_step_runs_as_written_but_for_the_install() -> None:
    step = readme_block("yaml").split("run: |\n", 1)[1]
    script = "\n".join(line.strip() for line in step.splitlines() if line.strip() and "pip install" not in line)
    port = str(free_port())
    script = script.replace("python -m", f"{sys.executable} -m").replace("8000", port)
    script = script.replace("--max-examples 25", "--max-examples 2 --only auth exports")
    with tempfile.TemporaryDirectory() as here:
        output = Path(here) / "output.txt"
        try:
            with output.open("w") as sink:  # a file, not a pipe: the server started in the background keeps it open
                result = subprocess.run(
                    ["bash", "-c", script.replace("&\n", "& echo $! > server.pid\n")],
                    cwd=here,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=300,
                )
        finally:
            pid = (Path(here) / "server.pid").read_text().strip()
            subprocess.run(["kill", pid], check=False)
        assert result.returncode == 0, output.read_text()
        assert "the target conforms" in output.read_text()


def test_reproduce_lines_keep_every_write_and_the_reads_since_the_last_one() -> None:
    """A walk of pages keeps the page whose ``next`` link led to the broken one."""
    from mockserver.contract.stateful import reproduction
    from mockserver.contract.target import Response

    def sent(method: str, url: str) -> Exchange:
        return Exchange(method, "http://x", url, {}, None, Response(200, {}, b"{}"))

    history = [
        sent("POST", "/e/"), sent("GET", "/e/1/"), sent("POST", "/e/"),
        sent("GET", "/e/?limit=1"), sent("GET", "/e/?limit=1&offset=1"),
    ]  # fmt: skip
    assert [f"{e.method} {e.url}" for e in reproduction(history)] == [
        "POST /e/", "POST /e/", "GET /e/?limit=1", "GET /e/?limit=1&offset=1",
    ]  # fmt: skip
    assert reproduction([]) == []
