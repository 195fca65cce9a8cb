"""The plugin seen from a whole test run: teardown checks, settings, xdist and scenarios.

Each test writes a small test suite and runs pytest on it (``pytester``), as a user would.
"""

from __future__ import annotations

import pytest


def test_strict_mode_fails_a_test_that_left_a_planned_fault_unused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.posthog_mock(strict=True)
        def test_forgets_to_call(posthog_mock):
            posthog_mock.fault("batch_exports_list", 503, times=2)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*1 planned fault(s) never used: batch_exports_list: answer 503, 2 of 2 left*"])
    assert "pytest_plugin.py" not in result.stdout.str()  # the message alone, not the plugin's traceback


def test_a_test_may_drop_the_faults_its_client_will_not_reach(pytester: pytest.Pytester) -> None:
    """A client that gives up after four attempts leaves six of ten 503s: ``clear_faults()`` drops them."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.posthog_mock(strict=True)
        def test_gives_up(posthog_mock):
            posthog_mock.fault("batch_exports_list", 503, times=10)
            posthog_mock.latency(0.0, "batch_exports_list")
            with posthog_mock.httpx_client() as client:
                for _ in range(4):
                    assert client.get(f"/api/projects/{posthog_mock.project_id}/batch_exports/").status_code == 503
            assert posthog_mock.clear_faults() == 1
            assert posthog_mock.clear_latency() == 1
            assert posthog_mock.unused_faults() == []
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_later_tests_clock_advance_does_no_work_for_tests_that_ended(pytester: pytest.Pytester) -> None:
    # On the shared server, each test's tenant is retired at teardown: its exports stop
    # firing, so advancing the one clock costs what the running test asks for.
    pytester.makepyfile(
        """
        created = []

        def test_one(posthog_mock):
            created.append(posthog_mock.create_export(interval="hour")["id"])

        def test_two(posthog_mock, posthog_mock_server):
            posthog_mock.advance(24 * 3600)
            runs = posthog_mock_server.app.store.runs_by_export
            assert runs.get(created[0], []) == []
            mine = posthog_mock.create_export(interval="hour")["id"]
            posthog_mock.advance(3600)
            assert len(runs[mine]) == 1
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_marker_turns_strict_mode_off_for_one_test_on_a_strict_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.posthog_mock(strict=False)
        def test_lenient(posthog_mock):
            assert posthog_mock.app.strict is False

        def test_strict(posthog_mock):
            assert posthog_mock.app.strict is True
        """
    )
    pytester.runpytest("--posthog-mock-strict").assert_outcomes(passed=2)


def test_a_tests_progression_is_undone_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_slow_runs(posthog_mock):
            with posthog_mock.httpx_client() as client:
                client.put("/_mock/progression/", json={"start_after": 30, "finish_after": 3600})
            posthog_mock.store.limits.concurrent_backfills = 1

        def test_default_runs(posthog_mock):
            with posthog_mock.httpx_client() as client:
                assert client.get("/_mock/progression/").json() == {"start_after": 30.0, "finish_after": 150.0}
            assert posthog_mock.store.limits.concurrent_backfills == 10
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_without_strict_mode_an_unused_fault_is_simply_cleared(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_one(posthog_mock):
            posthog_mock.fault("batch_exports_list", 503)

        def test_two(posthog_mock):
            assert posthog_mock.app.faults.active() == []
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_faults_and_latency_for_every_tenant_end_with_the_test_that_planned_them(pytester: pytest.Pytester) -> None:
    """Rules without a project or key apply to every tenant of the shared server: they are undone too."""
    pytester.makepyfile(
        """
        def test_plans_for_everyone(posthog_mock):
            with posthog_mock.httpx_client() as client:
                planned = client.post("/_mock/faults/", json={"operation_id": "batch_exports_list", "status": 503})
                assert planned.status_code == 201, planned.text
                slowed = client.post("/_mock/latency/", json={"seconds": 0.5})
                assert slowed.status_code == 201, slowed.text
            posthog_mock.app.faults.add("batch_exports_retrieve", 500)

        def test_resets_then_plans_for_everyone(posthog_mock):
            with posthog_mock.httpx_client() as client:
                assert client.post("/_mock/reset/").status_code == 204  # fault ids start over
            posthog_mock.app.faults.add("batch_exports_list", 503)

        def test_sees_none_of_it(posthog_mock):
            import time

            assert posthog_mock.app.faults.active() == [] and posthog_mock.app.latency.rules() == []
            started = time.monotonic()
            with posthog_mock.httpx_client() as client:
                listed = client.get(f"/api/projects/{posthog_mock.project_id}/batch_exports/")
            assert listed.status_code == 200 and time.monotonic() - started < 0.5
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_a_failed_strict_test_reports_its_failure_alone(pytester: pytest.Pytester) -> None:
    """Its unused faults would only repeat the failure as a second error."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.posthog_mock(strict=True)
        def test_fails_before_calling(posthog_mock):
            posthog_mock.fault("batch_exports_list", 503)
            assert 1 == 2
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    assert "UnusedFaults" not in result.stdout.str()


def test_an_unknown_marker_argument_is_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.posthog_mock(clcok="private")
        def test_typo(posthog_mock):
            pass

        @pytest.mark.posthog_mock(feature_flags=["high-frequency"])
        def test_flag_typo(posthog_mock):
            pass

        @pytest.mark.posthog_mock(clock="shared", seed=3)
        def test_contradiction(posthog_mock):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*posthog_mock marker: unknown argument 'clcok'*",
            "*posthog_mock marker: feature_flags: unknown flag 'high-frequency'*",
            '*posthog_mock marker: start and seed need clock="private"*',
        ]
    )


def test_ini_options_set_every_tests_defaults_and_flags_override_them(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        posthog_mock_clock = private
        posthog_mock_start = 2026-06-01T00:00:00Z
        posthog_mock_feature_flags = high-frequency-batch-exports, batch-export-earliest-backfill
        posthog_mock_scopes = batch_export:read
        posthog_mock_seed = 5
        posthog_mock_strict = true
        """
    )
    pytester.makepyfile(
        """
        def test_settings(posthog_mock, posthog_mock_settings, pytestconfig):
            assert posthog_mock.private
            assert posthog_mock.now.isoformat() == pytestconfig.getoption("expect_start")
            assert posthog_mock.tenant.feature_flags == ["batch-export-earliest-backfill",
                                                         "high-frequency-batch-exports"]
            assert posthog_mock.tenant.scopes == ["batch_export:read"]
            assert posthog_mock.store.ids.seed == 5 and posthog_mock.app.strict
        """
    )
    pytester.makeconftest(
        """
        def pytest_addoption(parser):
            parser.addoption("--expect-start")
        """
    )
    pytester.runpytest("--expect-start=2026-06-01T00:00:00+00:00").assert_outcomes(passed=1)
    pytester.runpytest(
        "--posthog-mock-start=2026-07-01T00:00:00Z", "--expect-start=2026-07-01T00:00:00+00:00"
    ).assert_outcomes(passed=1)


def test_a_bad_option_stops_the_run_with_its_name(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(posthog_mock): pass")
    result = pytester.runpytest("--posthog-mock-scopes=batch_export:raed")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*posthog_mock options: scopes: unknown scope 'batch_export:raed'*"])


def test_the_profile_option_picks_every_tests_api_and_a_marker_beats_it(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        posthog_mock_profile = current
        """
    )
    pytester.makeconftest(
        """
        def pytest_addoption(parser):
            parser.addoption("--expect-profile")
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_follows_the_options(posthog_mock, pytestconfig):
            expected = pytestconfig.getoption("expect_profile")
            assert posthog_mock.tenant.profile == expected
            assert ("incremental_mode" in posthog_mock.create_export()) == (expected == "current")
            assert posthog_mock.store.create_tenant().profile == expected  # the server's default too

        @pytest.mark.posthog_mock(profile="docs")
        def test_the_marker_wins(posthog_mock):
            assert posthog_mock.tenant.profile == "docs"
            assert "incremental_mode" not in posthog_mock.create_export()
        """
    )
    pytester.runpytest("--expect-profile=current").assert_outcomes(passed=2)
    pytester.runpytest("--posthog-mock-profile=docs", "--expect-profile=docs").assert_outcomes(passed=2)


def refused_marker(pytester: pytest.Pytester, arguments: str) -> pytest.RunResult:
    """Run a one-test suite marked ``@pytest.mark.posthog_mock(<arguments>)``: its setup errors."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.posthog_mock({arguments})
        def test_marked(posthog_mock):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    return result


def test_an_unknown_profile_is_refused_with_the_known_ones(pytester: pytest.Pytester) -> None:
    result = refused_marker(pytester, 'profile="newest"')
    result.stdout.fnmatch_lines(["*posthog_mock marker: profile: 'newest' is not one of docs, current*"])

    result = pytester.runpytest("--posthog-mock-profile=newest")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*posthog_mock options: profile: 'newest' is not one of docs, current*"])


def test_the_intercept_option_routes_every_tests_posthog_calls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, requests

        def list_exports(project_id, key):  # code under test, with PostHog's host hard-coded
            return requests.get(f"https://us.posthog.com/api/projects/{project_id}/batch_exports/",
                                headers={"Authorization": f"Bearer {key}"}, timeout=5).json()

        def test_listing(posthog_mock):
            assert list_exports(posthog_mock.project_id, posthog_mock.api_key)["count"] == 0
            posthog_mock.assert_called_once("batch_exports_list")
        """
    )
    pytester.runpytest("--posthog-mock-intercept").assert_outcomes(passed=1)


def test_a_shipped_scenario_from_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.posthog_mock(clock="private", scenario="failing-snowflake")
        def test_retry_after_failures(posthog_mock):
            export = posthog_mock.scenario.exports["warehouse"]
            runs = posthog_mock.scenario.runs["warehouse"]
            assert [r["status"] for r in runs[-4:]] == ["Completed", "Failed", "Failed", "Failed"]
            posthog_mock.advance(3600 + 300)
            statuses = sorted(r.status for r in posthog_mock.store.runs.values())
            assert statuses.count("FailedRetryable") == 1
            posthog_mock.app.faults.clear()
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_marker_turns_off_the_ini_files_scenario(pytester: pytest.Pytester) -> None:
    """``scenario=None`` gives one test an empty tenant in a suite whose ini loads a scenario into every test."""
    pytester.makeini("[pytest]\nposthog_mock_scenario = failing-snowflake\n")
    pytester.makepyfile(
        """
        import pytest

        def test_with_the_ini_scenario(posthog_mock):
            assert set(posthog_mock.scenario.exports) == {"warehouse"}

        @pytest.mark.posthog_mock(scenario=None)
        def test_without(posthog_mock, posthog_mock_settings):
            assert posthog_mock_settings.scenario is None
            assert posthog_mock.scenario is None
            with posthog_mock.httpx_client() as client:
                assert client.get(f"{posthog_mock.project_url}/batch_exports/").json()["count"] == 0
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_a_scenario_that_sets_the_clock_gets_a_fake_of_its_own(pytester: pytest.Pytester) -> None:
    """``clock.start`` in a scenario would move the shared server's clock for every other test."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.posthog_mock(scenario="weekly-across-dst")
        def test_1_dst(posthog_mock, posthog_mock_settings):
            assert posthog_mock.now.isoformat().startswith("2026-04-")  # the scenario's own clock
            assert posthog_mock_settings.clock == "private"  # as the test got it

        def test_2_after(posthog_mock):
            assert posthog_mock.now.isoformat() == "2026-01-05T12:00:00+00:00"  # the shared clock did not move

        @pytest.mark.posthog_mock(scenario="weekly-across-dst", clock="shared")
        def test_3_asks_for_the_shared_clock(posthog_mock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*scenario 'weekly-across-dst' sets the clock (clock.start): it needs clock=*"])


def test_safe_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest, requests

        @pytest.mark.parametrize("n", range(6))
        def test_shared(posthog_mock, n):
            url = f"{posthog_mock.project_url}/batch_exports/"
            body = {"name": f"e{n}", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}
            assert requests.post(url, json=body, headers=posthog_mock.headers, timeout=5).status_code == 201
            assert requests.get(url, headers=posthog_mock.headers, timeout=5).json()["count"] == 1

        @pytest.mark.parametrize("n", range(6))
        @pytest.mark.posthog_mock(clock="private", start="2026-02-01T00:00:00Z")
        def test_private(posthog_mock, n):
            posthog_mock.set_time(f"2026-02-01T0{n}:00:00Z")
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*created: 2/2 workers*"])


def test_markers_add_up_and_the_nearest_argument_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.posthog_mock(profile="current")

        @pytest.mark.posthog_mock(clock="private")
        class TestPrivate:
            @pytest.mark.posthog_mock(feature_flags=["high-frequency-batch-exports"])
            def test_keeps_the_class_clock_and_the_module_profile(self, posthog_mock, posthog_mock_settings):
                assert posthog_mock.private
                assert posthog_mock_settings.profile == "current"
                assert posthog_mock_settings.feature_flags == ("high-frequency-batch-exports",)

            @pytest.mark.posthog_mock(clock="shared")
            def test_its_own_clock_wins(self, posthog_mock):
                assert not posthog_mock.private
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_scenario_path_is_read_from_the_test_files_folder(pytester: pytest.Pytester) -> None:
    tests = pytester.mkdir("tests")
    (tests / "scenarios").mkdir()
    (tests / "scenarios" / "ours.yaml").write_text("exports:\n  - key: nightly\n    interval: day\n")
    (tests / "test_ours.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.posthog_mock(scenario='scenarios/ours.yaml')\n"
        "def test_loaded(posthog_mock):\n"
        "    assert posthog_mock.scenario.exports['nightly']['interval'] == 'day'\n"
    )
    # From the folder above the tests, where scenarios/ours.yaml does not exist.
    pytester.runpytest("tests").assert_outcomes(passed=1)


def test_a_missing_scenario_fails_with_where_it_was_looked_for(pytester: pytest.Pytester) -> None:
    result = refused_marker(pytester, 'scenario="failing_snowflake"')
    result.stdout.fnmatch_lines(["*posthog_mock marker: scenario: no such file as 'failing_snowflake' in *"])
    result.stdout.fnmatch_lines(["*nor a shipped scenario (shipped: *failing-snowflake*"])
    result.stdout.no_fnmatch_line("*During handling of the above exception*")
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_broken_scenario_fails_with_its_file_and_line_alone(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", broken="exports:\n  - key: nightly\n    interval: fortnightly\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.posthog_mock(scenario="broken.yaml")
        def test_broken(posthog_mock):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*posthog_mock: *broken.yaml:3: exports[[]0[]].interval*"])
    result.stdout.no_fnmatch_line("*mockserver/fixtures/scenarios.py*")


def test_a_seed_must_be_a_whole_number(pytester: pytest.Pytester) -> None:
    result = refused_marker(pytester, "seed=1.5")
    result.stdout.fnmatch_lines(["*posthog_mock marker: seed: expected an integer, got 1.5*"])


def test_the_shared_server_listens_on_the_port_option(pytester: pytest.Pytester) -> None:
    from mockserver.server import free_port

    port = free_port("127.0.0.1")
    pytester.makepyfile(
        f"""
        def test_port(posthog_mock):
            assert posthog_mock.url.endswith(":{port}")
        """
    )
    pytester.runpytest(f"--posthog-mock-port={port}").assert_outcomes(passed=1)


def test_a_busy_port_fails_with_one_line(pytester: pytest.Pytester) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        pytester.makepyfile("def test_port(posthog_mock): pass")
        result = pytester.runpytest(f"--posthog-mock-port={port}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*posthog_mock: the shared server cannot listen on 127.0.0.1:{port}: *"])


def test_a_port_out_of_range_stops_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_port(posthog_mock): pass")
    result = pytester.runpytest("--posthog-mock-port=80000")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*posthog_mock options: port: expected a port number (0 to 65535), got '80000'*"])


def test_a_module_shares_one_tenant_through_a_fixture_of_its_own(pytester: pytest.Pytester) -> None:
    """``posthog_mock`` is per test; ``PostHogMock.on(posthog_mock_server)`` makes a tenant a wider fixture keeps."""
    pytester.makepyfile(
        """
        import pytest
        from mockserver import PostHogMock

        @pytest.fixture(scope="module")
        def shared(posthog_mock_server):
            mock = PostHogMock.on(posthog_mock_server)
            mock.create_export(name="made once")
            yield mock
            mock.close()

        def test_one(shared):
            with shared.httpx_client() as client:
                assert client.get(f"/api/projects/{shared.project_id}/batch_exports/").json()["count"] == 1

        def test_two(shared):
            assert shared.create_export(name="second")["name"] == "second"

        def test_three(shared):
            with shared.httpx_client() as client:
                assert client.get(f"/api/projects/{shared.project_id}/batch_exports/").json()["count"] == 2
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
