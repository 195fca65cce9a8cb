"""A short soak (``make soak`` runs the long one): concurrent tenants, hostile input, bad connections."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parent.parent / "bench" / "soak.py"


@pytest.mark.parametrize("server", ["granian", "werkzeug"])
def test_a_short_soak_loses_nothing_leaks_nothing_and_never_errs(server: str, tmp_path: Path) -> None:
    figures = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(SOAK), "--server", server, "--clients", "6", "--tenants", "3",
         "--duration", "60", "--requests", "300", "--json", str(figures)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(figures.read_text())
    assert result["requests"] >= 300
    assert (result["5xx"], result["leaks"], result["lost"], result["illegal_histories"]) == (0, 0, 0, 0)
    assert result["exit_code"] == 0
