"""``python -m mockserver serve``: what ``make run`` starts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.server import granian_available

NO_GRANIAN = "granian is the optional 'serve' extra and is not installed"


@pytest.fixture(
    params=[pytest.param("granian", marks=pytest.mark.skipif(not granian_available(), reason=NO_GRANIAN)), "werkzeug"]
)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, object]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--seed", "3", "--print-tenant",
         "--server", request.param],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.endswith(f"({request.param})\n"), first
        url = first.split(" on ", 1)[1].split()[0]
        assert process.stdout.readline().startswith("A ready tenant")
        lines = [process.stdout.readline()]
        while lines[-1] not in ("}\n", ""):
            lines.append(process.stdout.readline())
        text = "".join(lines)
        yield url, json.loads(text)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_serve_prints_its_url_and_a_ready_tenant_that_works(served: tuple[str, dict[str, object]]) -> None:
    url, tenant = served
    assert url.startswith("http://127.0.0.1:")
    assert str(tenant["api_key"]).startswith("phx_") and tenant["project_id"] == 1
    request = urllib.request.Request(
        f"{url}/api/projects/{tenant['project_id']}/batch_exports/",
        headers={"Authorization": f"Bearer {tenant['api_key']}"},
    )
    deadline = time.monotonic() + 10
    while True:  # the port is printed before the server listens
        try:
            response = urllib.request.urlopen(request, timeout=10)
            break
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    with response:
        assert response.status == 200
        assert json.loads(response.read()) == {"count": 0, "next": None, "previous": None, "results": []}


def test_the_seed_fixes_the_tenant(served: tuple[str, dict[str, object]]) -> None:
    _, tenant = served
    from mockserver import Store

    assert Store(seed=3).create_tenant().to_dict() == tenant


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"]])
def test_help_is_plain_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """No reST markup (double backquotes, roles, literal-block colons) reaches a terminal."""
    from mockserver.cli import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "usage: posthog-batch-exports-mock" in shown
    assert not re.search(r"``|:(class|meth|func|data|mod):|::$", shown, flags=re.M), shown


def test_an_unparsable_start_time_is_refused() -> None:
    from mockserver.cli import main

    with pytest.raises(SystemExit, match="not an ISO 8601 datetime"):
        main(["serve", "--start", "tomorrow", "--port", "0"])


def test_a_start_time_without_a_zone_is_utc_as_the_api_reads_dates() -> None:
    from mockserver.cli import _clock, build_parser

    args = build_parser().parse_args(["serve", "--clock", "frozen", "--start", "2020-01-01"])
    assert _clock(args).now().isoformat() == "2020-01-01T00:00:00+00:00"
    args = build_parser().parse_args(["serve", "--clock", "frozen", "--start", "2020-01-01T02:00:00+02:00"])
    assert _clock(args).now().isoformat() == "2020-01-01T00:00:00+00:00"


def test_serve_freezes_the_heap_every_n_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """``FrozenHeap`` collects and freezes once per ``every`` requests, and passes every request on."""
    from mockserver.server import FrozenHeap

    calls: list[str] = []
    monkeypatch.setattr("mockserver.server.gc.collect", lambda: calls.append("collect"))
    monkeypatch.setattr("mockserver.server.gc.freeze", lambda: calls.append("freeze"))
    answered: list[str] = []

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        answered.append(str(environ["PATH_INFO"]))
        return [b"{}"]

    wrapped = FrozenHeap(app, every=3)
    for n in range(7):
        assert wrapped({"PATH_INFO": f"/{n}"}, lambda *args: None) == [b"{}"]
    assert len(answered) == 7
    assert calls == ["collect", "freeze", "collect", "freeze"]


@pytest.mark.parametrize("server", ["werkzeug", pytest.param("granian", marks=pytest.mark.skipif(
    not granian_available(), reason="granian (the 'serve' extra) is not installed"))])  # fmt: skip
@pytest.mark.parametrize("shared", [False, True], ids=["plain", "shared-like-granian"])
def test_a_taken_port_is_one_line_not_a_traceback(server: str, shared: bool) -> None:
    """Also where the listener shares its port (``SO_REUSEPORT``, as granian's does): a second
    fake would otherwise start there, and the kernel would deal connections out between the two."""
    import socket

    from mockserver.cli import main

    with socket.socket() as taken:
        if shared:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            main(["serve", "--server", server, "--port", str(port)])
    assert str(stopped.value) == f"--port: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_a_port_out_of_range_is_refused_before_anything_starts() -> None:
    from mockserver.cli import main

    with pytest.raises(SystemExit, match=r"^--port: must be 0 to 65535 \(0 picks a free one\), not 80000$"):
        main(["serve", "--port", "80000"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clock-speed", "-1"], "--clock-speed: must be more than 0 and at most 1000000, not -1"),
        (["--clock-speed", "nan"], "--clock-speed: must be more than 0 and at most 1000000, not nan"),
        (["--clock", "frozen", "--clock-speed", "60"], "--clock-speed: a frozen clock has no speed"),
    ],
)
def test_a_clock_option_that_cannot_be_honoured_is_one_line(args: list[str], message: str) -> None:
    from mockserver.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "0", *args])
    assert str(stopped.value).startswith(message)


def test_the_readme_lists_every_flag_of_serve() -> None:
    import argparse
    from pathlib import Path

    from mockserver.cli import build_parser

    readme = Path(__file__).parent.parent.joinpath("README.md").read_text()
    table = readme.split("Every flag of `serve`:", 1)[1].split("\n## ", 1)[0]
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    serve = commands.choices["serve"]
    flags = {flag for action in serve._actions for flag in action.option_strings if flag.startswith("--")}
    missing = sorted(flag for flag in flags - {"--help"} if f"`{flag}" not in table)
    assert missing == []


def test_a_scenario_file_is_one_scenario_however_its_path_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state file records the scenarios it holds: ``./ours.yaml`` then ``/abs/ours.yaml`` is not a second copy."""
    from mockserver.cli import _scenario_key

    (tmp_path / "ours.yaml").write_text("exports: []\n")
    monkeypatch.chdir(tmp_path)
    assert _scenario_key("./ours.yaml") == _scenario_key(str(tmp_path / "ours.yaml")) == _scenario_key("ours.yaml")
    assert _scenario_key("failing-snowflake") == "failing-snowflake"


def test_the_control_plane_token_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of the process list, where every local user would read it."""
    from mockserver.cli import build_parser

    monkeypatch.setenv("POSTHOG_MOCK_CONTROL_PLANE_TOKEN", "from-the-environment")
    assert build_parser().parse_args(["serve"]).control_plane_token == "from-the-environment"
    given = build_parser().parse_args(["serve", "--control-plane-token", "given"])
    assert given.control_plane_token == "given"
    monkeypatch.setenv("POSTHOG_MOCK_CONTROL_PLANE_TOKEN", "")
    assert build_parser().parse_args(["serve"]).control_plane_token is None
