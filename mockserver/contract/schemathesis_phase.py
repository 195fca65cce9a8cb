"""Phase ``schemathesis``: every operation of the spec through schemathesis (being built)."""

from __future__ import annotations

from mockserver.contract.report import PhaseResult
from mockserver.contract.workspace import Workspace

__all__ = ["run_schemathesis_phase"]


def run_schemathesis_phase(workspace: Workspace, result: PhaseResult, *, max_examples: int, seed: int) -> None:
    result.skipped("schemathesis", "not built yet")
