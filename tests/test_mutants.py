"""The contract suite bites: it passes the unbroken fake and fails every deliberately broken one.

Each mutant of :mod:`mutants` breaks one property of the contract (pagination,
persistence, delete, status codes, error shape, run lifecycle, auth, isolation, scopes,
counts, cursors, missing fields, a sporadic 500). The suite runs against it in process, with a
small fixed budget and seed, restricted to the phases that can see the break, and must
report that the target does not conform.

A mutant the suite does not catch yet is a gap in the suite, not in the mutant: it is
listed in :data:`GAPS` with the reason, and expected to fail, strictly, so that closing
the gap makes the test say so. :data:`MISNAMED` lists the kills reported under the wrong
property.

Run as a script for the kill rate, optionally over several seeds::

    python tests/test_mutants.py                      # budget and seed of the tests
    python tests/test_mutants.py --max-examples 25 --seeds 0 1 2 3
    python tests/test_mutants.py patch-not-kept --seeds 0 1   # some mutants only (names first)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from mutants import KINDS, MUTANTS, Mutant
from werkzeug.test import Client

from mockserver import MockServer
from mockserver.contract import Report, Target, run_contract
from mockserver.contract.target import WSGIApp
from mockserver.server import ServerThread

#: Examples per state machine: small, so that the whole file stays well under a minute.
MAX_EXAMPLES = 10
SEED = 0
#: The phases that exist today and check domain properties (schemathesis comes on top).
DOMAIN_PHASES = ("auth", "exports", "runs")

#: Mutants the suite does not kill at :data:`MAX_EXAMPLES`/:data:`SEED`, and why (none today).
GAPS: dict[str, str] = {}
#: Mutants the suite kills but reports under another property than the one they break (none today).
MISNAMED: dict[str, str] = {}


class Survived(AssertionError):
    """The suite found nothing wrong with a mutant (what a gap's test expects, and nothing else)."""


def contract_run(app: WSGIApp, phases: Sequence[str], *, max_examples: int = MAX_EXAMPLES, seed: int = SEED) -> Report:
    """The suite against ``app`` in process, with a tenant made through its control plane."""
    response = Client(app).post("/_mock/tenants/", json={})
    assert response.status_code == 201, response.text
    tenant = response.json
    assert tenant is not None
    target = Target.in_process(app, api_key=tenant["api_key"], project_id=tenant["project_id"])
    return run_contract(target, max_examples=max_examples, seed=seed, only=phases)


def test_the_unbroken_fake_conforms() -> None:
    server = MockServer(strict=True)
    report = contract_run(server, DOMAIN_PHASES)
    assert report.ok, report.render()
    assert not server.errors


def _expectation(mutant: Mutant) -> list[pytest.MarkDecorator]:
    if mutant.name in GAPS:
        return [pytest.mark.xfail(raises=Survived, strict=True, reason=GAPS[mutant.name])]
    return []


@pytest.mark.parametrize("mutant", [pytest.param(m, id=m.name, marks=_expectation(m)) for m in MUTANTS.values()])
def test_the_suite_fails_the_mutant(mutant: Mutant) -> None:
    report = contract_run(mutant.build(), mutant.phases)
    if report.ok:
        raise Survived(f"{mutant.name} survived ({mutant.description})\n{report.render()}")
    found = {v.prop for v in report.violations}
    if mutant.name in MISNAMED:
        assert not found & mutant.caught_by, f"the suite now names the property: drop {mutant.name} from MISNAMED"
    elif mutant.caught_by:
        assert found & mutant.caught_by, f"expected one of {sorted(mutant.caught_by)}, got {sorted(found)}"


def test_the_command_exits_1_against_a_mutant_served_on_localhost(tmp_path: Path) -> None:
    """What CI sees: ``python -m mockserver contract`` fails the job, and says which property broke."""
    mutant = MUTANTS["deleted-still-retrievable"]
    app = mutant.build()
    assert isinstance(app, MockServer)
    tenant = app.store.create_tenant()
    junit = tmp_path / "contract.xml"
    with ServerThread(app) as running:
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "contract", "--base-url", running.url, "--api-key", tenant.api_key,
             "--project-id", str(tenant.project_id), "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
             "--only", *mutant.phases, "--junit-xml", str(junit)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "delete.gone" in result.stdout and "the target does NOT conform" in result.stdout
    (suite,) = ET.parse(junit).getroot()
    assert suite.get("failures") != "0"


def test_the_mutants_break_every_kind_of_property() -> None:
    assert len(MUTANTS) >= 12
    assert {m.kind for m in MUTANTS.values()} == set(KINDS)
    for mutant in MUTANTS.values():
        assert mutant.description, f"{mutant.name} does not say what it breaks"
        assert set(mutant.phases) <= set(DOMAIN_PHASES)
    assert set(GAPS) | set(MISNAMED) <= set(MUTANTS)


def test_a_mutant_keeps_the_control_plane() -> None:
    """The suite needs tenants, keys and the clock from every mutant."""
    for mutant in MUTANTS.values():
        client = Client(mutant.build())
        assert client.get("/_mock/clock/").status_code == 200, mutant.name
        assert client.post("/_mock/tenants/", json={}).status_code == 201, mutant.name


# -- the kill rate, as a script ----------------------------------------------------------


@dataclass
class Outcome:
    mutant: Mutant
    seed: int
    seconds: float
    report: Report | None
    crash: BaseException | None = None

    @property
    def killed(self) -> bool:
        return self.report is not None and not self.report.ok

    def verdict(self) -> str:
        if self.crash is not None:
            return f"CRASHED ({type(self.crash).__name__}: {self.crash})"
        if not self.killed:
            return "survived"
        assert self.report is not None
        return "killed by " + ", ".join(sorted({v.prop for v in self.report.violations}))


def measure(mutant: Mutant, *, max_examples: int, seed: int) -> Outcome:
    began = time.perf_counter()
    try:
        report = contract_run(mutant.build(), mutant.phases, max_examples=max_examples, seed=seed)
    except Exception as exc:  # noqa: BLE001 - a crash of the suite is an outcome to report
        return Outcome(mutant, seed, time.perf_counter() - began, None, exc)
    return Outcome(mutant, seed, time.perf_counter() - began, report)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the contract suite against every mutant; print the kill rate.")
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[SEED])
    parser.add_argument("names", nargs="*", help="mutants to run (all by default)")
    args = parser.parse_args(argv)
    chosen = [MUTANTS[name] for name in args.names] if args.names else list(MUTANTS.values())
    killed = total = 0
    conforms = True
    for seed in args.seeds:
        began = time.perf_counter()
        baseline = contract_run(MockServer(strict=True), DOMAIN_PHASES, max_examples=args.max_examples, seed=seed)
        conforms &= baseline.ok
        verdict = "conforms" if baseline.ok else "does NOT conform:\n" + baseline.render()
        print(f"seed {seed}  {'(the unbroken fake)':<38} {time.perf_counter() - began:6.1f} s  {verdict}", flush=True)
        seed_killed = 0
        for mutant in chosen:
            outcome = measure(mutant, max_examples=args.max_examples, seed=seed)
            seed_killed += outcome.killed
            print(f"seed {seed}  {mutant.name:<38} {outcome.seconds:6.1f} s  {outcome.verdict()}", flush=True)
        print(
            f"seed {seed}: {seed_killed}/{len(chosen)} killed at --max-examples {args.max_examples} "
            f"in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
        killed, total = killed + seed_killed, total + len(chosen)
    print(f"kill rate: {killed}/{total} ({100 * killed / total:.0f}%)")
    return 0 if killed == total and conforms else 1


if __name__ == "__main__":
    sys.exit(main())
