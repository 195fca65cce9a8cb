"""``run_contract``: every phase of the suite against one target, cleaned up afterwards.

>>> from mockserver import MockServer
>>> server = MockServer()
>>> tenant = server.store.create_tenant()
>>> target = Target.in_process(server, api_key=tenant.api_key, project_id=tenant.project_id)
>>> report = run_contract(target, max_examples=2, only=["auth"])
>>> report.ok, [phase.name for phase in report.phases]
(True, ['auth'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mockserver.contract import wallclock
from mockserver.contract.progress import Progress, Silent
from mockserver.contract.report import PhaseResult, Report
from mockserver.contract.target import Target, Unreachable
from mockserver.contract.workspace import Workspace

__all__ = ["PHASES", "Phase", "Settings", "run_contract"]


@dataclass(frozen=True)
class Settings:
    """How hard each phase tries."""

    #: Examples per hypothesis state machine and per schemathesis operation.
    max_examples: int = 100
    seed: int = 0
    #: Steps per state-machine example.
    steps: int = 12


@dataclass(frozen=True)
class Phase:
    """A named part of the suite: ``run(workspace, result, settings)`` records into ``result``."""

    name: str
    description: str
    run: Callable[[Workspace, PhaseResult, Settings], None]


def _schemathesis(workspace: Workspace, result: PhaseResult, settings: Settings) -> None:
    from mockserver.contract.schemathesis_phase import run_schemathesis_phase

    run_schemathesis_phase(workspace, result, max_examples=settings.max_examples, seed=settings.seed)


def _machine(name: str) -> Callable[[Workspace, PhaseResult, Settings], None]:
    def run(workspace: Workspace, result: PhaseResult, settings: Settings) -> None:
        from mockserver.contract.stateful import MachineRun, run_machine

        if name == "exports":
            from mockserver.contract.exports import ExportsMachine as machine
        else:
            from mockserver.contract.runs import RunsMachine as machine  # type: ignore[assignment]
        creds = workspace.credentials()
        if creds.read_only_key is None:
            result.skipped("auth.read-only", "no --read-only-api-key given and no control plane to mint one")
        if creds.foreign_key is None:
            result.skipped("auth.isolation", "another organization's key needs the control plane")
        run_machine(
            machine,
            MachineRun(workspace, creds, result),
            max_examples=settings.max_examples,
            seed=settings.seed,
            steps=settings.steps,
        )
        if creds.read_only_key is None and "auth.read-only" in result.passes:
            result.passes.remove("auth.read-only")
        if creds.foreign_key is None and "auth.isolation" in result.passes:
            result.passes.remove("auth.isolation")

    return run


def _auth(workspace: Workspace, result: PhaseResult, settings: Settings) -> None:
    from mockserver.contract.auth import run_auth_phase

    run_auth_phase(workspace, result)


def _differ(reference: Workspace) -> Callable[[Workspace, PhaseResult, Settings], None]:
    def run(workspace: Workspace, result: PhaseResult, settings: Settings) -> None:
        from mockserver.contract.differential import run_differential

        run_differential(workspace, reference, result)

    return run


#: Every phase, in the order they run (``differential`` is added when there is a reference).
PHASES: tuple[Phase, ...] = (
    Phase("auth", "every operation without a key, with a bad key, with a read-only key", _auth),
    Phase("exports", "create/patch/pause/unpause/delete/list at random against a model", _machine("exports")),
    Phase("runs", "schedules, backfills, cancel and retry at random; the run lifecycle", _machine("runs")),
    Phase("schemathesis", "every operation, positive and negative data, and stateful links", _schemathesis),
)


def run_contract(
    target: Target,
    *,
    reference: Target | None = None,
    max_examples: int = 100,
    seed: int = 0,
    only: Iterable[str] | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
    steps: int = 12,
) -> Report:
    """Check ``target`` against the contract; every object the suite made is deleted at the end.

    Args:
        target: the implementation and its credentials.
        max_examples: examples per state machine and per schemathesis operation.
        seed: fixes every random choice (the same seed asks the same questions).
        reference: a second implementation to compare ``target`` with (phase ``differential``).
        only: names of the phases to run (all of :data:`PHASES` by default).
        run_id: names the objects this run creates (``contract-<run_id>-<n>``).
        progress: told when phases start and end (silent by default).

    Raises:
        Unreachable: the target did not answer at all.
        ValueError: ``only`` names an unknown phase.
    """
    selected = select_phases(only)
    progress = progress or Silent()
    settings = Settings(max_examples=max_examples, seed=seed, steps=steps)
    report = Report(target=target.display_url, seed=seed)
    workspace = Workspace(target, run_id or f"s{seed}", on_response=progress.request)
    other = Workspace(reference, run_id or f"s{seed}", on_response=progress.request) if reference else None
    if other is not None and (not only or "differential" in only):
        selected = [*selected, Phase("differential", "the same scenarios against the reference", _differ(other))]
    try:
        for index, phase in enumerate(selected):
            result = report.phase(phase.name)
            progress.start(phase.name, phase.description)
            began, requests = wallclock.elapsed(), workspace.requests + (other.requests if other else 0)
            try:
                phase.run(workspace, result, settings)
            except Unreachable as exc:
                result.error = f"the target stopped answering: {exc}"
                report.unreachable = str(exc)
            except Exception as exc:  # noqa: BLE001 - an answer the phase could not read: a failure, not a crash
                result.error = f"{type(exc).__name__}: {exc}"[:500]
            finally:
                result.seconds = wallclock.elapsed() - began
                result.requests = workspace.requests + (other.requests if other else 0) - requests
            progress.end(result)
            if report.unreachable is not None:
                # The later phases would only wait out the same silence: listed, not run.
                for later in selected[index + 1 :]:
                    report.phase(later.name).skipped(later.name, "not run: the target stopped answering")
                break
    finally:
        report.leftovers = workspace.cleanup()
        workspace.close()
        if other is not None:
            report.leftovers += [f"on the reference: {item}" for item in other.cleanup()]
            other.close()
    return report


def select_phases(only: Iterable[str] | None) -> Sequence[Phase]:
    if not only:
        return PHASES
    names = [n for n in only if n != "differential"]
    if not names:
        return []
    known = {p.name for p in PHASES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(sorted(known | {'differential'}))}"
        )
    return [p for p in PHASES if p.name in names]
