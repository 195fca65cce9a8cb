"""The contract suite collected as pytest tests, as another project's test suite would use it."""

from __future__ import annotations

import pytest

from mockserver import MockServer
from mockserver.server import ServerThread

pytest_plugins = ["pytester"]

MODULE = """
from mockserver.contract.pytest import contract_tests

test_posthog_contract = contract_tests(max_examples=3, phases=["auth", "exports"])
"""


def test_each_phase_is_a_test_against_an_in_process_fake(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_contract=MODULE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_posthog_contract?auth? PASSED*", "*test_posthog_contract?exports? PASSED*"])


def test_the_environment_points_it_at_a_served_fake(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    app = MockServer()
    tenant = app.store.create_tenant()
    with ServerThread(app) as running:
        monkeypatch.setenv("POSTHOG_CONTRACT_BASE_URL", running.url)
        monkeypatch.setenv("POSTHOG_CONTRACT_API_KEY", tenant.api_key)
        monkeypatch.setenv("POSTHOG_CONTRACT_PROJECT_ID", str(tenant.project_id))
        pytester.makepyfile(test_contract=MODULE)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=2)
        assert app.journal.entries(), "the suite's requests reached the served fake"


def test_a_wrong_key_fails_every_phase_as_the_command_refuses_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the fake the suite works in tenants of its own: without this check, bad CI secrets would pass."""
    app = MockServer()
    with ServerThread(app) as running:
        monkeypatch.setenv("POSTHOG_CONTRACT_BASE_URL", running.url)
        monkeypatch.setenv("POSTHOG_CONTRACT_API_KEY", "phx_wrong")
        monkeypatch.setenv("POSTHOG_CONTRACT_PROJECT_ID", "999")
        pytester.makepyfile(test_contract=MODULE)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([f"*target {running.url}: the API key was refused*"])


def test_a_violation_fails_its_phase_with_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_contract="""
from mockserver import MockServer
from mockserver.contract import Target
from mockserver.contract.pytest import contract_tests

fake = MockServer()
tenant = fake.store.create_tenant()

def ignores_credentials(environ, start_response):
    # Answers every request as if the tenant's key had been sent, and has no control plane.
    if environ["PATH_INFO"].startswith("/_mock/"):
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"type":"invalid_request","code":"not_found","detail":"Not found.","attr":null}']
    environ["HTTP_AUTHORIZATION"] = "Bearer " + tenant.api_key
    return fake(environ, start_response)

test_posthog_contract = contract_tests(
    Target.in_process(ignores_credentials, api_key=tenant.api_key, project_id=tenant.project_id),
    max_examples=2,
    phases=["auth"],
)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*auth.no-credentials*", "*the target does NOT conform.*"])
