"""Factories and scenario files (``mockserver.fixtures``): valid, seeded, and loud when malformed."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Api
from werkzeug.test import Client

from mockserver import MockServer
from mockserver.domain.lifecycle import ERRORED, RUN_STATUSES
from mockserver.domain.logs import LOG_LEVELS
from mockserver.fixtures import (
    DESTINATIONS,
    Factories,
    FactoryError,
    ScenarioError,
    load_scenario,
    shipped_scenarios,
)
from mockserver.fixtures.scenarios import load_scenario_text


def factories(seed: int = 1) -> tuple[MockServer, Factories]:
    server = MockServer(seed=seed, strict=True)
    tenant = server.store.create_tenant(feature_flags=["backfill-workflows-destination"])
    return server, Factories(server, tenant, seed=seed)


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_an_export_of_every_destination_type_is_what_the_api_serves(destination: str) -> None:
    server, make = factories()
    export = make.batch_export(destination=destination)
    tenant = make.tenant
    response = Client(server).get(
        f"/api/projects/{tenant.project_id}/batch_exports/{export['id']}/",
        headers={"Authorization": f"Bearer {tenant.api_key}"},
    )
    assert response.status_code == 200  # strict: the spec approves it too
    assert response.json == export
    assert len(server.journal.entries()) == 1  # only the GET above: factories do not go through HTTP


def test_an_export_of_a_current_tenant_has_the_fields_its_api_serves() -> None:
    server = MockServer(seed=1, strict=True)
    make = Factories(server, server.store.create_tenant(profile="current"), seed=1)
    export = make.batch_export(destination="NoOp")
    response = Client(server).get(
        f"/api/projects/{make.tenant.project_id}/batch_exports/{export['id']}/",
        headers={"Authorization": f"Bearer {make.tenant.api_key}"},
    )
    assert response.json == export
    assert export["incremental_mode"] == "APPEND"  # a field the docs' API does not have


@pytest.mark.parametrize("status", RUN_STATUSES)
def test_runs_in_every_status(status: str) -> None:
    _server, make = factories()
    export = make.batch_export(destination="Snowflake")
    run = make.run(export["id"], status)
    assert run["status"] == status
    if status in ERRORED:
        assert run["latest_error"]  # a realistic message, not a blank
    else:  # no worker failed: the other endings carry no error, as runs of the engine's own
        assert run["latest_error"] is None


def test_a_running_run_stays_running_now_and_finishes_as_a_scheduled_one_would() -> None:
    """Made at 12:40 for the 11:00-12:00 interval: still Running (to cancel, say) until the clock moves on."""
    server, make = factories()
    server.store.clock.advance(40 * 60)
    export = make.batch_export(destination="NoOp", interval="hour")
    run = make.run(export["id"], "Running")
    api = Api(server, make.tenant)
    assert api.get(f"/batch_exports/{export['id']}/runs/{run['id']}/").json["status"] == "Running"
    server.store.clock.advance(server.store.progression.finish_after)
    finished = api.get(f"/batch_exports/{export['id']}/runs/{run['id']}/").json
    assert (finished["status"], finished["latest_error"]) == ("Completed", None)


def test_histories_refuse_counts_that_make_no_runs() -> None:
    _server, make = factories()
    export = make.batch_export(destination="NoOp", interval="hour")
    for count, failures in ((0, ()), (2, ("Failed",) * 3), (2, {5: "Failed"})):
        with pytest.raises(FactoryError, match="history: "):
            make.history(export["id"], count=count, failures=failures)


def test_a_cycle_of_exports_skips_workflows_unless_the_tenant_may_create_them() -> None:
    server = MockServer(seed=1)
    plain = Factories(server, server.store.create_tenant(), seed=1)
    types = [e["destination"]["type"] for e in plain.batch_exports(len(DESTINATIONS))]
    assert "Workflows" not in types and types[: len(DESTINATIONS) - 1] == list(DESTINATIONS[:-1])
    _server, flagged = factories()  # with the backfill-workflows-destination flag
    assert [e["destination"]["type"] for e in flagged.batch_exports(len(DESTINATIONS))] == list(DESTINATIONS)


def test_the_same_seed_makes_the_same_objects() -> None:
    first = factories(seed=3)[1].batch_export(destination="AwsS3")
    again = factories(seed=3)[1].batch_export(destination="AwsS3")
    other = factories(seed=4)[1].batch_export(destination="AwsS3")
    assert first == again
    assert first["destination"]["config"] != other["destination"]["config"]


def test_history_is_the_schedule_before_now_oldest_first() -> None:
    _server, make = factories()
    export = make.batch_export(destination="NoOp", interval="hour")
    runs = make.history(export["id"], count=3, failures=["FailedRetryable"])
    assert [(r["data_interval_end"], r["status"]) for r in runs] == [
        ("2026-01-05T10:00:00Z", "Completed"),
        ("2026-01-05T11:00:00Z", "Completed"),
        ("2026-01-05T12:00:00Z", "FailedRetryable"),
    ]


def test_backfills_file_downloads_and_logs() -> None:
    server, make = factories()
    export = make.batch_export(destination="NoOp", interval="hour")
    backfill = make.backfill(export["id"], start_at="2026-01-05T00:00:00Z", end_at="2026-01-05T03:00:00Z")
    assert backfill["status"] == "Starting"
    download = make.file_download(start="2026-01-04T00:00:00Z", end="2026-01-05T00:00:00Z")
    run = make.run(export["id"], "Running")
    line = make.log_entry(run["id"], "hello", level="WARNING")
    assert (download["status"], line["message"], line["level"]) == ("Starting", "hello", "WARNING")
    server.store.clock.advance(3600)
    assert server.backend.file_downloads.get(make.tenant.project_id, download["id"]).status == "Completed"


def test_what_the_rules_refuse_is_a_factory_error_naming_the_field() -> None:
    _server, make = factories()
    with pytest.raises(FactoryError, match="interval"):
        make.batch_export(destination="NoOp", interval="fortnightly")
    with pytest.raises(FactoryError, match="not a run status"):
        make.run(make.batch_export(destination="NoOp")["id"], "Exploded")


def test_a_field_the_api_would_ignore_is_a_factory_error_as_it_is_surely_a_typo() -> None:
    _server, make = factories()
    with pytest.raises(FactoryError, match=r"batch_export: intervall: unknown field \(allowed: name, model, "):
        make.batch_export(destination="NoOp", intervall="day")
    run = make.run(make.batch_export(destination="NoOp")["id"], "Running")
    with pytest.raises(FactoryError, match="log_entry: level: 'LOUD' is not one of DEBUG, LOG, INFO, WARNING, ERROR"):
        make.log_entry(run["id"], "x", level="LOUD")
    assert make.log_entry(run["id"], "x", level="debug")["level"] == "DEBUG"


def test_the_log_levels_are_the_specs(server: MockServer) -> None:
    schema = server.spec.document["components"]["schemas"]["LogEntry"]["properties"]["level"]
    assert tuple(schema["enum"]) == LOG_LEVELS


def test_a_refusal_behind_a_feature_flag_names_the_flag() -> None:
    server = MockServer()
    make = Factories(server, server.store.create_tenant())
    with pytest.raises(FactoryError, match=r"feature flag 'high-frequency-batch-exports': turn it on with "
                                           r"feature_flags=\['high-frequency-batch-exports'\]"):  # fmt: skip
        make.batch_export(destination="NoOp", interval="every 5 minutes")
    with pytest.raises(FactoryError, match="feature flag 'backfill-workflows-destination'"):
        make.batch_export(destination="Workflows")


def test_the_factories_check_what_a_request_would() -> None:
    _server, make = factories()
    with pytest.raises(FactoryError, match=r"batch_export: name: Not a valid string\."):
        make.batch_export(destination="NoOp", name={"x": 1})


# -- scenarios ---------------------------------------------------------------------------------


def test_a_scenario_turns_on_the_feature_flags_it_needs() -> None:
    server = MockServer()
    text = "feature_flags: [high-frequency-batch-exports]\nexports:\n  - {key: fast, interval: every 5 minutes}\n"
    scenario = load_scenario_text(text, server)
    assert scenario.exports["fast"]["interval"] == "every 5 minutes"
    assert scenario.tenant is not None
    assert "high-frequency-batch-exports" in server.store.teams[scenario.tenant.project_id].feature_flags
    with pytest.raises(ScenarioError, match=r"<scenario>:1: feature_flags\[0\]: 'high-frequency' is not one of"):
        load_scenario_text("feature_flags: [high-frequency]\n", server)


def test_a_scenario_exports_event_lists_go_in_its_destination_config() -> None:
    server = MockServer()
    text = (
        "exports:\n"
        "  - {key: s3, destination: AwsS3, include_events: [$pageview]}\n"
        "  - {key: noop, destination: {type: NoOp, config: {}}, exclude_events: [$identify]}\n"
    )
    scenario = load_scenario_text(text, server)
    assert scenario.exports["s3"]["destination"]["config"]["include_events"] == ["$pageview"]
    assert scenario.exports["noop"]["destination"]["config"] == {"exclude_events": ["$identify"]}


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_every_shipped_scenario_loads_into_a_strict_fake(name: str) -> None:
    server = MockServer(strict=True)
    scenario = load_scenario(name, server)
    assert scenario.exports and scenario.tenant is not None
    tenant = scenario.tenant
    for export in scenario.exports.values():
        response = Client(server).get(
            f"/api/projects/{tenant.project_id}/batch_exports/{export['id']}/runs/",
            headers={"Authorization": f"Bearer {tenant.api_key}"},
        )
        assert response.status_code == 200


def test_the_shipped_scenarios_are_the_ones_promised() -> None:
    assert sorted(shipped_scenarios()) == [
        "failing-snowflake", "file-download-in-progress", "healthy-hourly-s3", "weekly-across-dst"
    ]  # fmt: skip


def test_a_week_of_hourly_history() -> None:
    scenario = load_scenario("healthy-hourly-s3", MockServer())
    runs = scenario.runs["events_to_s3"]
    assert len(runs) == 168 and {r["status"] for r in runs} == {"Completed"}


def test_the_weekly_scenario_crosses_the_dst_change() -> None:
    scenario = load_scenario("weekly-across-dst", MockServer())
    ends = [r["data_interval_end"] for r in scenario.runs["weekly"]]
    assert ends[-2:] == ["2026-03-29T00:00:00Z", "2026-04-04T23:00:00Z"]


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        ("exports:\n  - key: a\n    interval: hourly\n", 3, "exports[0].interval", "'hourly' is not one of"),
        ("exports:\n  - name: no key\n", 2, "exports[0]", "needs a key"),
        ("exports:\n  - key: a\n    history:\n      runs: many\n", 4, "exports[0].history.runs", "integer"),
        ("exports:\n  - key: a\n    colour: red\n", 3, "exports[0].colour", "unknown field"),
        ("exports:\n  - key: a\n    destination: Snowflak\n", 3, "exports[0].destination", "not one of"),
        ("exports:\n  - key: a\n    planned_outcomes: [Exploded]\n", 3, "exports[0].planned_outcomes[0]",
         "not one of"),
        ("exports:\n  - key: a\n  - key: a\n", 3, "exports[1].key", "duplicate"),
        ("exports:\n  - key: a\n    destination: {type: AwsS3, config: {region: x}}\n", 2, "exports[0]",
         "bucket_name"),
        ("exports: [\n", 2, "", "not valid YAML"),
        ("faults:\n  - {operation: batch_exports_explode, status: 500}\n", 2, "faults[0]", "not an operation"),
    ],
)  # fmt: skip
def test_a_malformed_scenario_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, problem: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, MockServer())
    error = caught.value
    assert (error.source, error.line, error.field) == (str(path), line, field)
    assert problem in error.problem
    assert str(error).startswith(f"{path}:{line}: {field or 'scenario'}: ")


def test_an_unknown_scenario_lists_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match="shipped: failing-snowflake"):
        load_scenario("healthy-hourly", MockServer())


def test_a_destination_given_whole_gets_the_tenants_integration_by_kind_or_by_default() -> None:
    """Integration ids differ from tenant to tenant; a scenario names the kind, or leaves it to the tenant's."""
    _server, make = factories()
    postgres = {"type": "Postgres", "config": {"database": "dw"}}
    own = next(int(i["id"]) for i in make.tenant.integrations if i["kind"] == "postgresql")
    assert make.batch_export(destination=postgres)["destination"]["integration"] == own
    assert make.batch_export(destination={**postgres, "integration": "postgresql"})["destination"]["integration"] == own
    with pytest.raises(FactoryError, match="no integration of kind 'mysql'"):
        make.batch_export(destination={**postgres, "integration": "mysql"})


def test_a_scenario_fault_names_its_operation_as_the_control_plane_does_too() -> None:
    """``operation_id:`` (the control plane's word) and ``operation:`` are the same; both at once is an error."""
    server = MockServer()
    load_scenario_text("faults:\n  - {operation_id: batch_exports_list, status: 503}\n", server)
    assert [f.operation for f in server.faults.active()] == ["batch_exports_list"]
    with pytest.raises(ScenarioError, match="faults\\[0\\]: give operation or operation_id"):
        load_scenario_text("faults:\n  - {operation: a, operation_id: a, status: 503}\n", server)
