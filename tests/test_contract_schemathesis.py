"""The schemathesis phase: every operation of the spec, judged by schemathesis' checks.

It passes the unbroken fake in process and served on localhost, names each broken
property ``ST:<check>`` with the ``curl`` lines that show it, and against a target
without the control plane touches nothing it did not create and deletes all it did.
Budgets are tiny (the phase's speed is measured by a benchmark, not here), and the
broken targets are checked on the few paths where their break shows.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from support import call as send
from support import without_control_plane
from werkzeug.test import Client

from mockserver import MockServer, Tenant
from mockserver.contract import Report, Target, run_contract
from mockserver.contract.report import PhaseResult
from mockserver.contract.schemathesis_phase import CHECKS, DISABLED_CHECKS, run_schemathesis_phase
from mockserver.contract.target import Exchange
from mockserver.contract.workspace import Workspace
from mockserver.server import ServerThread

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: The project-level routes of batch exports (not runs, backfills or file downloads).
EXPORTS_ONLY = r"^/api/projects/\{project_id\}/batch_exports/(\{id\}/)?$"
_ONE_EXPORT = re.compile(
    r"^/api/projects/\d+/batch_exports/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$"
)


def target_for(app: WSGIApp, tenant: Tenant) -> Target:
    return Target.in_process(app, api_key=tenant.api_key, project_id=tenant.project_id)


def phase(
    target: Target,
    *,
    max_examples: int = 3,
    seed: int = 0,
    paths: str | None = None,
    seen: list[Exchange] | None = None,
) -> PhaseResult:
    """Run the phase alone (optionally on some paths only), cleaning up as ``run_contract`` does."""
    workspace = Workspace(target, "st", on_response=None if seen is None else seen.append)
    result = PhaseResult("schemathesis")
    try:
        run_schemathesis_phase(workspace, result, max_examples=max_examples, seed=seed, paths=paths)
    finally:
        workspace.cleanup()
        workspace.close()
    return result


def failed(result: PhaseResult) -> set[str]:
    return {v.prop for v in result.violations}


def render(result: PhaseResult) -> str:
    report = Report(target="under test", phases=[result])
    return report.render()


# -- broken targets -----------------------------------------------------------------------


def answers_500_to_export_reads(app: WSGIApp) -> WSGIApp:
    """Crashes on ``GET /batch_exports/{id}/`` (PostHog's error body, status 500)."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "GET" and _ONE_EXPORT.match(environ["PATH_INFO"]):
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [b'{"type":"server_error","code":"error","detail":"A server error occurred.","attr":null}']
        return app(environ, start_response)

    return wsgi


def does_not_delete(app: WSGIApp) -> WSGIApp:
    """Answers ``DELETE /batch_exports/{id}/`` with 204 wherever a read would succeed, and keeps the export."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "DELETE" and _ONE_EXPORT.match(environ["PATH_INFO"]):
            read = Client(app).get(
                environ["PATH_INFO"], headers={"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
            )
            if read.status_code == 200:
                start_response("204 No Content", [])
                return [b""]
        return app(environ, start_response)

    return wsgi


def ignores_auth(app: WSGIApp) -> WSGIApp:
    """Lets a request without valid credentials in, as whoever was last let in."""
    last: dict[str, str] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = {"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
        if Client(app).get("/api/projects/@current/batch_exports/", headers=headers).status_code == 401:
            if "key" in last:
                environ["HTTP_AUTHORIZATION"] = last["key"]
        else:
            last["key"] = headers["Authorization"]
        return app(environ, start_response)

    return wsgi


# -- the unbroken fake --------------------------------------------------------------------


def test_the_fake_passes_every_check_in_process() -> None:
    server = MockServer(strict=True)
    tenant = server.store.create_tenant()
    report = run_contract(target_for(server, tenant), max_examples=2, seed=1, only=["schemathesis"])

    assert report.ok, report.render()
    (result,) = report.phases
    assert set(result.passes) == {f"ST:{check}" for check in CHECKS}
    assert {s.prop for s in result.skips} == {f"ST:{check}" for check in DISABLED_CHECKS}
    assert result.requests > 200
    assert report.leftovers == []
    assert not server.errors, server.errors


def test_the_fake_passes_served_on_localhost() -> None:
    server = MockServer(strict=True)
    tenant = server.store.create_tenant()
    with ServerThread(server) as running:
        target = Target(running.url, tenant.api_key, tenant.project_id)
        report = run_contract(target, max_examples=1, seed=2, only=["schemathesis"])

    assert report.ok, report.render()
    assert report.phases[0].requests > 100
    assert not server.errors, server.errors


# -- broken targets fail with the check that sees the break --------------------------------


@pytest.mark.parametrize(
    ("breaking", "checks", "max_examples", "seeds"),
    [
        (answers_500_to_export_reads, {"ST:not_a_server_error", "ST:status_code_conformance"}, 1, 1),
        # A delete then a read of the same export needs a stateful scenario to chain them, and
        # whether 30 examples of one seed do depends on anything that shifts hypothesis' draws
        # (seeds 0-5 all did once; seed 0 no longer does): the first of four seeds that finds
        # it is judged, so a shift in the draws does not hide the check.
        (does_not_delete, {"ST:use_after_free"}, 30, 4),
    ],
    ids=["500-on-read", "delete-keeps-export"],
)
def test_a_broken_target_fails_with_the_checks_that_see_it(
    breaking: Callable[[WSGIApp], WSGIApp], checks: set[str], max_examples: int, seeds: int
) -> None:
    for seed in range(seeds):
        server = MockServer(strict=True)
        mine = server.store.create_tenant()
        result = phase(target_for(breaking(server), mine), max_examples=max_examples, seed=seed, paths=EXPORTS_ONLY)
        if checks <= failed(result):
            break

    assert checks <= failed(result), render(result)
    violation = next(v for v in result.violations if v.prop in checks)
    assert violation.expected == CHECKS[violation.prop.removeprefix("ST:")]
    assert violation.requests and all(line.startswith("curl -X ") for line in violation.requests)
    assert any("/batch_exports/" in line for line in violation.requests)
    # The phase's own tenant on the fake: its key is shown as it is.
    assert all('"Authorization: Bearer phx_' in line for line in violation.requests)


def test_a_target_that_ignores_credentials_fails_ignored_auth(server: MockServer, tenant: Tenant) -> None:
    result = phase(target_for(ignores_auth(server), tenant), max_examples=1, paths=EXPORTS_ONLY)

    assert "ST:ignored_auth" in failed(result), render(result)
    violation = next(v for v in result.violations if v.prop == "ST:ignored_auth")
    assert "401" in violation.expected


# -- footprint ------------------------------------------------------------------------------


def test_without_a_control_plane_it_touches_only_what_it_created(server: MockServer, tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    body = {"name": "someone else's export", "interval": "day", "destination": {"type": "NoOp", "config": {}}}
    theirs = send(server, "POST", f"/api/projects/{tenant.project_id}/batch_exports/", json=body, headers=headers).json

    seen: list[Exchange] = []
    result = phase(target_for(without_control_plane(server), tenant), max_examples=3, paths=EXPORTS_ONLY, seen=seen)

    assert result.ok, render(result)
    # Progress hears of schemathesis' requests too (the live counter of the command).
    assert any(e.summary().startswith("POST /api/projects/") for e in seen)
    after = send(server, "GET", f"/api/projects/{tenant.project_id}/batch_exports/{theirs['id']}/", headers=headers)
    assert after.json == theirs
    exports = list(server.store.batch_exports.values())
    assert [e.name for e in exports if not e.deleted] == ["someone else's export"]
    made = [e for e in exports if e.name != "someone else's export"]
    assert made and all(e.name.startswith("contract-st-") for e in made)
    # Nothing it made could deliver events: the spec's HTTP example went in as NoOp too.
    assert {e.destination.type for e in made} == {"NoOp"}


def test_ids_it_did_not_create_never_reach_the_target(server: MockServer, tenant: Tenant) -> None:
    from types import SimpleNamespace

    from mockserver.contract.schemathesis_phase import _Footprint

    workspace = Workspace(target_for(without_control_plane(server), tenant), "st")
    footprint = _Footprint(workspace, workspace.credentials(), random.Random(0))
    theirs, mine = "018f3c2a-9b4e-7000-a8d1-5e3f6c7b2a91", "019b8e07-4600-7000-8000-000000000001"
    footprint.owned.add(mine)

    def call(method: str, **path_parameters: str) -> dict[str, str]:
        operation = SimpleNamespace(path="/api/projects/{project_id}/batch_exports/{batch_export_id}/runs/{id}/")
        case = SimpleNamespace(method=method, path_parameters=dict(path_parameters), operation=operation, body=None)
        footprint.before_call(case)  # type: ignore[arg-type]  # a stand-in with only what before_call reads
        sent: dict[str, str] = case.path_parameters
        return sent

    sent = call("DELETE", project_id="1", batch_export_id=theirs, id=mine)
    assert sent["batch_export_id"] != theirs and sent["id"] == mine and sent["project_id"] == "1"
    assert call("GET", batch_export_id=mine, id=theirs)["id"] != theirs
    assert call("POST", batch_export_id="not-a-uuid", id=mine) == {"batch_export_id": "not-a-uuid", "id": mine}


def test_every_link_of_the_spec_names_an_operation_and_its_path_parameters() -> None:
    from mockserver.http.spec import load_spec

    document = load_spec().document
    operations = {
        op["operationId"]: (path, op)
        for path, item in document["paths"].items()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    links = [
        (source, name, link)
        for source, (path, op) in operations.items()
        for response in op["responses"].values()
        for name, link in response.get("links", {}).items()
    ]
    assert len(links) >= 40
    for source, name, link in links:
        target_path, _ = operations[link["operationId"]]
        assert set(link["parameters"]) == set(re.findall(r"\{(\w+)\}", target_path)), (source, name)
        source_path = operations[source][0]
        for expression in link["parameters"].values():
            assert expression.startswith(("$response.body#/", "$request.path.")), (source, name)
            if expression.startswith("$request.path."):
                assert "{" + expression.removeprefix("$request.path.") + "}" in source_path, (source, name)


def test_interrupted_it_stops_schemathesis_and_what_it_created_is_still_deleted(
    server: MockServer, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    import schemathesis

    from mockserver.contract import schemathesis_phase

    seen = schemathesis_phase._Collector.see
    events: list[object] = []

    def see(self: schemathesis_phase._Collector, event: object) -> None:
        events.append(event)
        if sum(type(e).__name__ == "ScenarioFinished" for e in events) == 12:
            raise KeyboardInterrupt
        seen(self, event)

    monkeypatch.setattr(schemathesis_phase._Collector, "see", see)
    workspace = Workspace(target_for(without_control_plane(server), tenant), "st")
    with pytest.raises(KeyboardInterrupt):
        run_schemathesis_phase(workspace, PhaseResult("schemathesis"), max_examples=5, seed=0, paths=EXPORTS_ONLY)
    assert workspace.cleanup() == []

    assert not schemathesis.hooks.get_all_by_name("before_call")
    assert not schemathesis.hooks.get_all_by_name("after_call")
    made = list(server.store.batch_exports.values())
    assert made and all(e.deleted for e in made)


def test_the_file_downloads_it_starts_are_cancelled_at_the_end(server: MockServer, tenant: Tenant) -> None:
    downloads = r"^/api/projects/\{project_id\}/file_download_batch_exports/"
    result = phase(target_for(without_control_plane(server), tenant), max_examples=2, paths=downloads)

    assert result.ok, render(result)
    started = [server.store.runs[i] for i in server.store.file_downloads_by_team.get(tenant.project_id, [])]
    assert started and all(run.status == "Cancelled" for run in started)


def test_the_suites_document_lets_an_optional_query_value_be_empty() -> None:
    """DRF reads ``?after=`` as no ``after`` at all: an empty value is no negative case (a list's ``''`` is)."""
    from mockserver.contract.schemathesis_phase import _document
    from mockserver.contract.workspace import Credentials

    document = _document(Credentials("phx_x", 1, "org", None, None), None, "docs")
    after = document["components"]["parameters"]["LogAfter"]["schema"]
    assert after == {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}]}
    runs = document["paths"]["/api/projects/{project_id}/batch_exports/{batch_export_id}/runs/"]["get"]
    resolved = [document["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                for p in runs["parameters"]]  # fmt: skip
    status = next(p for p in resolved if p["name"] == "status")
    assert status["schema"]["type"] == "array"


def test_the_suite_judges_answers_by_the_profile_the_target_plays() -> None:
    """Today's PostHog (``current``) adds fields to an export: judged by the docs' schemas they are
    unexpected; judged by ``current``'s, they conform. Through a control plane, the suite's tenants
    get the profile asked for."""
    fake = MockServer(strict=True)
    tenant = fake.store.create_tenant(profile="current")
    created = send(
        fake, "POST", f"/api/projects/{tenant.project_id}/batch_exports/",
        json={"name": "listed", "interval": "hour", "destination": {"type": "NoOp", "config": {}}},
        headers={"Authorization": f"Bearer {tenant.api_key}"},
    )  # fmt: skip
    assert created.status_code == 201 and "hogql_query" in created.json  # listed by every GET of the list
    served = without_control_plane(fake)  # the given tenant, as on a real PostHog
    as_docs = phase(Target.in_process(served, api_key=tenant.api_key, project_id=tenant.project_id), paths=EXPORTS_ONLY)
    assert "ST:response_schema_conformance" in failed(as_docs), render(as_docs)
    current = Target.in_process(served, api_key=tenant.api_key, project_id=tenant.project_id, profile="current")
    as_current = phase(current, paths=EXPORTS_ONLY)
    assert as_current.ok, render(as_current)
    before = set(fake.store.organizations)
    with_control = phase(Target.in_process(fake, api_key="-", project_id=0, profile="current"), paths=EXPORTS_ONLY)
    assert with_control.ok, render(with_control)
    made = set(fake.store.organizations) - before
    assert made and {fake.store.profile_of_organization(org) for org in made} == {"current"}
    with pytest.raises(ValueError, match="one of docs, current"):
        Target(None, "k", 1, profile="today")
