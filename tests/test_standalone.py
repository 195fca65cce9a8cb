"""The standalone mock as a team runs it: scenarios, access log, state file, clean shutdown, page, spec."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import Api, JsonResponse
from werkzeug.test import Client

from mockserver import MockServer
from mockserver.domain.models import LogEntry, Run
from mockserver.domain.tables import ShardedDict
from mockserver.fixtures import Factories, load_scenario
from mockserver.persistence import StateFileError, load_state, read_state, save_state
from mockserver.server import AccessLog

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


class Served:
    """``python -m mockserver serve …`` in a subprocess, read line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--server", "werkzeug", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if "listening on" not in first:
            self.process.kill()
            raise AssertionError(first + self.process.communicate(timeout=10)[1])
        self.url = first.split(" on ", 1)[1].split()[0]
        self.lines: list[str] = []
        while not (line := self.process.stdout.readline()).startswith("Tenants, exports and runs:"):
            if not line:
                raise AssertionError(self.process.communicate(timeout=10)[1])
            self.lines.append(line)
        host, port = self.url.removeprefix("http://").split(":")
        deadline = time.monotonic() + 10
        while True:  # the URL is printed before the server listens
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.05)

    def get(self, path: str, **headers: str) -> Any:
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(self.url + path, headers=headers), timeout=10) as r:
                    body = r.read()
                    return json.loads(body) if r.headers["Content-Type"].startswith("application/json") else body
            except urllib.error.URLError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def post(self, path: str, body: object, **headers: str) -> Any:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", **headers},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stop(self, sig: int = signal.SIGTERM) -> str:
        self.process.send_signal(sig)
        out, _err = self.process.communicate(timeout=15)
        assert self.process.returncode == 0, _err
        return out


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[Served] = []

    def start(*args: str) -> Served:
        started.append(Served(*args))
        return started[-1]

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.communicate(timeout=10)


def test_scenarios_load_at_start_and_print_their_tenants(serve: Any, tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("exports:\n  - {key: nightly, destination: NoOp, interval: day}\n")
    served = serve("--clock", "frozen", "--scenario", "healthy-hourly-s3", "--scenario", str(own))
    printed = json.loads("".join(served.lines[1:served.lines.index("}\n") + 1]))  # fmt: skip
    tenant = printed["tenant"]
    runs = served.get(
        f"/api/projects/{tenant['project_id']}/batch_exports/{printed['exports']['events_to_s3']}/runs/?limit=200",
        Authorization=f"Bearer {tenant['api_key']}",
    )
    assert len(runs["results"]) == 100 and runs["next"]  # a page of the week's 168 runs
    assert {r["status"] for r in runs["results"]} == {"Completed"}
    assert "Scenario 'mine' loaded into project 2:" in "".join(served.lines)
    served.stop()


def test_a_malformed_scenario_stops_serve_with_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("exports:\n  - key: a\n    interval: hourly\n")
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--scenario", str(bad)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert f"--scenario: {bad}:3: exports[0].interval: 'hourly' is not one of" in result.stderr


def test_the_access_log_has_one_common_log_format_line_per_request(serve: Any, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    served = serve("--access-log", str(log))
    served.get("/_mock/clock/")
    served.post("/_mock/tenants/", {})
    served.stop()
    lines = log.read_text().splitlines()
    clf = (
        r'127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "(GET|POST) (\S+) HTTP/1\.1" (\d{3}) (\d+|-)'
    )
    assert [re.fullmatch(clf, line).groups()[1:3] for line in lines] == [  # type: ignore[union-attr]
        ("/_mock/clock/", "200"),
        ("/_mock/tenants/", "201"),
    ]


def test_the_access_log_wrapper_logs_a_dropped_connection_without_a_status() -> None:
    server = MockServer()
    tenant = server.store.create_tenant()
    server.faults.add("batch_exports_list", None, drop=True)
    lines: list[str] = []
    with pytest.raises(ConnectionError):
        Client(AccessLog(server, lines.append)).get(
            f"/api/projects/{tenant.project_id}/batch_exports/", headers={"Authorization": f"Bearer {tenant.api_key}"}
        )
    assert lines[0].endswith(f'"GET /api/projects/{tenant.project_id}/batch_exports/ HTTP/1.1" - -\n')


def test_the_access_log_keeps_a_key_in_the_query_to_its_prefix() -> None:
    server = MockServer()
    tenant = server.store.create_tenant()
    lines: list[str] = []
    Client(AccessLog(server, lines.append)).get(
        f"/api/projects/{tenant.project_id}/batch_exports/?personal_api_key={tenant.api_key}&limit=1"
    )
    assert tenant.api_key not in lines[0]
    assert f'?personal_api_key={tenant.api_key[:8]}%E2%80%A6&limit=1 HTTP/1.1" 200' in lines[0]


def test_the_access_log_cannot_be_given_extra_lines() -> None:
    """A newline or a quote in the path is escaped: one request, one line (bytes past ASCII as ``\\xHH``)."""
    lines: list[str] = []
    Client(AccessLog(MockServer(), lines.append)).get("/api/x%0a127.0.0.1 - - FAKE/%22q%22%E2%9C%93")
    assert len(lines) == 1 and lines[0].count("\n") == 1
    assert '"GET /api/x\\x0a127.0.0.1 - - FAKE/\\x22q\\x22\\xe2\\x9c\\x93 HTTP/1.1" 404' in lines[0]


def test_a_state_file_that_cannot_be_written_is_refused_at_start(tmp_path: Path) -> None:
    """Not at exit, when the session's state would be lost."""
    blocker = tmp_path / "afile"
    blocker.write_text("")
    for path in (blocker / "x.pkl", tmp_path):
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state-file", str(path)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode != 0 and "--state-file:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_state_survives_a_clean_restart(serve: Any, tmp_path: Path, stop_signal: int) -> None:
    state = tmp_path / "state" / "mock.state"
    first = serve("--clock", "frozen", "--state-file", str(state))
    tenant = first.post("/_mock/tenants/", {})
    auth = {"Authorization": f"Bearer {tenant['api_key']}"}
    export = first.post(
        f"/api/projects/{tenant['project_id']}/batch_exports/",
        {"name": "kept", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}, **auth,
    )  # fmt: skip
    first.post("/_mock/clock/advance/", {"seconds": 7200})
    first.post("/_mock/faults/", {"operation_id": "batch_exports_list", "status": 503, "project_id": 1})
    out = first.stop(stop_signal)
    assert f"State saved to {state}" in out and state.exists()
    assert not list(state.parent.glob(".*"))  # no temporary file left behind

    second = serve("--clock", "frozen", "--state-file", str(state))
    assert second.get("/_mock/clock/") == {"now": "2026-01-05T14:00:00Z"}
    runs = second.get(f"/api/projects/{tenant['project_id']}/batch_exports/{export['id']}/runs/", **auth)
    assert [r["status"] for r in runs["results"]] == ["Starting", "Completed"]  # 14:00 just began
    assert second.get("/_mock/faults/")["count"] == 1
    new = second.post("/_mock/tenants/", {})
    assert new["project_id"] == tenant["project_id"] + 1  # ids go on where they stopped
    second.stop()


def test_scenarios_load_once_into_a_state_file_not_on_every_restart(serve: Any, tmp_path: Path) -> None:
    """The README's ``--scenario … --state-file …`` command, restarted, keeps one copy of the scenario's tenant."""
    state = tmp_path / "mock.state"
    first = serve("--clock", "frozen", "--scenario", "failing-snowflake", "--state-file", str(state))
    organizations = [o["id"] for o in first.get("/_mock/state/")["organizations"]]
    assert len(organizations) == 1
    first.stop()
    # Restarted with one more: the first is in the state already, the new one loads.
    second = serve("--clock", "frozen", "--scenario", "failing-snowflake", "--scenario", "healthy-hourly-s3",
                   "--state-file", str(state))  # fmt: skip
    assert any("Scenario 'failing-snowflake' not loaded again" in line for line in second.lines)
    assert any("Scenario 'healthy-hourly-s3' loaded" in line for line in second.lines)
    now_held = [o["id"] for o in second.get("/_mock/state/")["organizations"]]
    assert now_held[:1] == organizations and len(now_held) == 2
    reset = urllib.request.Request(second.url + "/_mock/reset/", data=b"{}", method="POST",
                                   headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(reset, timeout=10) as response:  # forgets the scenarios' tenants
        assert response.status == 204
    second.stop()
    third = serve("--clock", "frozen", "--scenario", "failing-snowflake", "--state-file", str(state))
    assert len(third.get("/_mock/state/")["organizations"]) == 1
    third.stop()


def test_print_tenant_prints_the_same_tenant_on_every_start_from_a_state_file(serve: Any, tmp_path: Path) -> None:
    """``make run``'s tenant, restarted with a state file: the same key, not one more tenant per start."""
    state = tmp_path / "mock.state"

    def printed(served: Any) -> dict[str, Any]:
        start = next(i for i, line in enumerate(served.lines) if line.startswith("A ready tenant"))
        end = next(i for i, line in enumerate(served.lines) if line.rstrip() == "}" and i > start)
        return dict(json.loads("".join(served.lines[start + 1 : end + 1])))

    first = serve("--clock", "frozen", "--print-tenant", "--state-file", str(state))
    tenant = printed(first)
    first.stop()
    second = serve("--clock", "frozen", "--print-tenant", "--state-file", str(state))
    assert printed(second) == tenant
    assert any("the one printed before, kept in the state file" in line for line in second.lines)
    assert [o["id"] for o in second.get("/_mock/state/")["organizations"]] == [tenant["organization_id"]]
    reset = urllib.request.Request(second.url + "/_mock/reset/", data=b"{}", method="POST",
                                   headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(reset, timeout=10) as response:  # forgets the tenant
        assert response.status == 204
    second.stop()
    third = serve("--clock", "frozen", "--print-tenant", "--state-file", str(state))
    # A reset forgot it: a new one (the same ids again, as a reset restarts the seeded ids).
    assert not any("printed before" in line for line in third.lines)
    assert len(third.get("/_mock/state/")["organizations"]) == 1
    third.stop()


def test_serve_exits_when_it_cannot_say_where_it_listens() -> None:
    """A closed stdout (``serve … | head -1`` after head left) ends it; it used to wait forever."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--server", "werkzeug", "--print-tenant"],
        stdout=write_end,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    try:
        assert process.wait(timeout=30) != 0
    finally:
        process.kill()
        process.communicate(timeout=10)


def _two_hours_of_an_hourly_export(path: Path) -> tuple[MockServer, Api, dict[str, Any], dict[str, Any]]:
    """A fake whose hourly export ran for two hours, saved to ``path``: ``(fake, api, export, saved state)``."""
    server = MockServer()
    api = Api(server, server.store.create_tenant())
    export = api.create_export()
    api.post("/_mock/clock/advance/", json={"seconds": 7200})
    save_state(server, path)
    return server, api, export, read_state(path)


def test_a_state_file_with_plain_dict_tables_loads_into_sharded_ones(tmp_path: Path) -> None:
    """Files saved before the run tables were sharded hold them as dicts; they load as they were."""
    path = tmp_path / "state"
    server, api, export, state = _two_hours_of_an_hourly_export(path)
    state["store"]["runs"] = dict(state["store"]["runs"].items())
    state["store"]["logs_by_instance"] = dict(state["store"]["logs_by_instance"].items())
    path.write_bytes(pickle.dumps(state))

    restored = MockServer()
    restored.store.clock.set(load_state(restored, path))
    assert isinstance(restored.store.runs, ShardedDict) and isinstance(restored.store.logs_by_instance, ShardedDict)
    runs = Api(restored, api.tenant).get(f"/batch_exports/{export['id']}/runs/").json["results"]
    assert [r["id"] for r in runs] == list(reversed(list(server.store.runs)))


class _LegacyPickler(pickle.Pickler):
    """Writes runs and log entries as they were pickled while they had a ``__dict__``: a plain dict of fields."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (Run, LogEntry)):
            fields = {name: getattr(obj, name) for name in type(obj).__dataclass_fields__}
            return object.__new__, (type(obj),), fields
        return NotImplemented


def test_runs_and_logs_saved_with_a_dict_per_record_load_into_slotted_ones(tmp_path: Path) -> None:
    """Runs and log entries are slotted; a state file written while they had a ``__dict__`` still loads."""
    path = tmp_path / "state"
    server, api, export, state = _two_hours_of_an_hourly_export(path)
    before = api.get(f"/batch_exports/{export['id']}/runs/").json
    logs_before = api.get(f"/batch_exports/{export['id']}/logs/").json
    buffer = io.BytesIO()
    _LegacyPickler(buffer).dump(state)
    assert not hasattr(next(iter(server.store.runs.values())), "__dict__")
    path.write_bytes(buffer.getvalue())

    restored = MockServer()
    restored.store.clock.set(load_state(restored, path))
    again = Api(restored, api.tenant)
    assert before["results"] and again.get(f"/batch_exports/{export['id']}/runs/").json == before
    assert logs_before["results"] and again.get(f"/batch_exports/{export['id']}/logs/").json == logs_before


def test_a_record_field_the_state_file_lacks_takes_its_default() -> None:
    """A field added to a slotted record after a file was saved reads as its default, not as an error."""
    run = Run.__new__(Run)
    saved = {"id": "r", "team_id": 1, "status": "Completed", "data_interval_start": None,
             "data_interval_end": NOW, "created_at": NOW, "last_updated_at": NOW}  # fmt: skip
    run.__setstate__(saved)
    assert (run.status, run.cursor, run.finished_at, run.records_completed) == ("Completed", None, None, None)


def test_a_foreign_state_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "state"
    path.write_bytes(b"not a pickle")
    with pytest.raises(StateFileError, match="not a state file"):
        load_state(MockServer(), path)
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state-file", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0 and "--state-file:" in result.stderr


def test_a_damaged_state_file_is_one_error_whatever_the_damage(tmp_path: Path) -> None:
    """Flipped bytes make unpickling fail in many ways (UnicodeDecodeError, OverflowError…); a
    directory or a file missing parts fail elsewhere: each is a StateFileError, one line on serve."""
    import pickle

    from mockserver.persistence import read_state

    server = MockServer()
    server.store.create_tenant()
    good = tmp_path / "good"
    save_state(server, good)
    data = good.read_bytes()
    damaged = tmp_path / "damaged"
    for position in range(0, len(data), max(1, len(data) // 60)):
        damaged.write_bytes(data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :])
        with contextlib.suppress(StateFileError):  # by name; a flip that still reads whole may load
            read_state(damaged)
    partial = tmp_path / "partial"
    partial.write_bytes(pickle.dumps({"format": pickle.loads(data)["format"], "now": 1}))
    for path, message in ((tmp_path, "cannot be read"), (partial, "a damaged state file")):
        with pytest.raises(StateFileError, match=message):
            read_state(path)
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state-file", str(path)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode != 0 and "--state-file:" in result.stderr and "Traceback" not in result.stderr


def test_a_state_whose_tables_are_not_tables_is_refused(tmp_path: Path) -> None:
    """A whole pickle of the right format can still hold the wrong things: each table must be one."""
    import pickle

    from mockserver.persistence import read_state

    server = MockServer()
    server.store.create_tenant()
    good = tmp_path / "good"
    save_state(server, good)
    state = pickle.loads(good.read_bytes())
    cases = {
        "store.teams": {**state, "store": {**state["store"], "teams": "x"}},
        "store.lock": {**state, "store": {**state["store"], "lock": None}},
        "store.nonsense": {**state, "store": {**state["store"], "nonsense": {}}},
        "faults[0]": {**state, "faults": ["not a fault"]},
    }
    for part, broken in cases.items():
        path = tmp_path / part
        path.write_bytes(pickle.dumps(broken))
        with pytest.raises(StateFileError, match=re.escape(part)):
            read_state(path)
    assert read_state(good)["store"].keys() == state["store"].keys()


def test_a_state_saved_mid_backfill_resumes_its_counts(tmp_path: Path) -> None:
    """A file written before backfills kept their counts still loads them right: they are counted again."""
    from mockserver import Outcome

    server = MockServer()
    tenant = server.store.create_tenant()
    make = Factories(server, tenant)
    export = make.batch_export(interval="hour", destination=make.destination("NoOp"))
    server.plan_outcomes(export["id"], [Outcome("Failed", "boom")])
    backfill = make.backfill(export["id"], start_at="2026-01-05T06:00:00Z", end_at="2026-01-05T10:00:00Z")
    server.store.clock.advance(400)  # two runs ended: Failed, then Completed
    kept = server.store.backfills[backfill["id"]]
    counts = (kept.finished_runs, kept.completed_records)
    assert counts[0] == 2
    kept.finished_runs, kept.completed_records = 0, None  # as an older file holds it
    path = tmp_path / "state"
    save_state(server, path)
    restored = MockServer()
    load_state(restored, path)
    again = restored.store.backfills[backfill["id"]]
    assert (again.finished_runs, again.completed_records) == counts


def test_saving_is_atomic_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state"
    server = MockServer()
    server.store.create_tenant()
    save_state(server, path)
    before = path.read_bytes()
    server.store.create_tenant()

    def broken_fsync(_fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_state(server, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]


def test_granian_cannot_keep_a_state_file() -> None:
    from mockserver.cli import main

    with pytest.raises(SystemExit, match="--state-file needs --server werkzeug"):
        main(["serve", "--port", "0", "--server", "granian", "--state-file", "x"])


# -- the page and the spec ----------------------------------------------------------------------


def test_the_page_lists_tenants_exports_and_recent_runs() -> None:
    server = MockServer(strict=True)
    scenario = load_scenario("failing-snowflake", server)
    page = Client(server).get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Events to Snowflake" in html and scenario.exports["warehouse"]["id"] in html
    assert html.count('class="status Failed"') == 3 and "resource monitor" in html
    assert "2026-01-05T12:00:00Z" in html


def test_the_page_shows_twenty_organizations_at_a_time_with_links_to_the_rest() -> None:
    """A long-lived fake gathers tenants without end; the page, rendered under the lock, does not grow with them."""
    server = MockServer(strict=True)
    tenants = [server.store.create_tenant() for _ in range(45)]
    client = Client(server)
    first = client.get("/").get_data(as_text=True)
    assert first.count('class="tenant"') == 20 and f'id="project-{tenants[19].project_id}"' in first
    assert "Organizations 1–20 of 45" in first and 'rel="next" href="/?limit=20&amp;offset=20"' in first
    assert 'rel="prev"' not in first and 'href="/_mock/state/?limit=20&amp;offset=0"' in first
    last = client.get("/?limit=20&offset=40").get_data(as_text=True)
    assert last.count('class="tenant"') == 5 and f'id="project-{tenants[44].project_id}"' in last
    assert "Organizations 41–45 of 45" in last and 'rel="next"' not in last
    assert 'rel="prev" href="/?limit=20&amp;offset=20"' in last
    assert client.get("/?limit=0").status_code == 400
    for huge in ("limit=99999999999999999999", "offset=99999999999999999999", "limit=9223372036854775807&offset=1"):
        assert client.get(f"/?{huge}").status_code == 200, huge


def test_the_page_shows_fifty_exports_per_project_and_says_how_many_more() -> None:
    server = MockServer()
    tenant = server.store.create_tenant()
    client = Client(server)
    for n in range(53):
        created = client.post(
            f"/api/projects/{tenant.project_id}/batch_exports/",
            json={"name": f"export {n}", "interval": "hour", "destination": {"type": "NoOp", "config": {}}},
            headers={"Authorization": f"Bearer {tenant.api_key}"},
        )
        assert created.status_code == 201
    html = client.get("/").get_data(as_text=True)
    assert html.count("<h3 ") == 50 and ">export 49<" in html and ">export 50<" not in html
    assert f"And 3 more: <code>GET /api/projects/{tenant.project_id}/batch_exports/</code>" in html


def test_the_page_escapes_what_users_wrote() -> None:
    server = MockServer()
    server.store.create_tenant(project_name="<script>alert(1)</script>")
    html = Client(server).get("/").get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_page_shows_a_name_utf_8_cannot_write() -> None:
    """A lone surrogate stored before names were checked (an old state file) is shown as ``?``."""
    server = MockServer()
    tenant = server.store.create_tenant()
    server.store.teams[tenant.project_id].name = "lone " + chr(0xD800)  # as an old state file may hold it
    response = Client(server).get("/")
    assert response.status_code == 200
    assert "lone ?" in response.get_data(as_text=True)


def test_the_spec_is_served_at_api_schema() -> None:
    client = Client(MockServer(strict=True), response_wrapper=JsonResponse)
    as_yaml = client.get("/api/schema/")
    as_json = client.get("/api/schema/?format=json")
    assert isinstance(as_json, JsonResponse)
    assert as_yaml.status_code == as_json.status_code == 200
    assert yaml.safe_load(as_yaml.data) == as_json.json
    assert "/api/projects/{project_id}/batch_exports/" in as_json.json["paths"]
    refused = client.get("/api/schema/?format=xml")
    assert isinstance(refused, JsonResponse) and refused.json["attr"] == "format"
