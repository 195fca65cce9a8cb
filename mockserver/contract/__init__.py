"""The contract suite: does an implementation honour the batch-exports contract of ``spec/openapi.yaml``?

Point it at any implementation (this fake in process or on localhost, real PostHog with a
key, someone else's fake) and it checks status codes, error bodies, pagination, scopes and
run-state transitions, then deletes what it created::

    from mockserver.contract import Target, run_contract

    report = run_contract(Target("http://127.0.0.1:8000", api_key="phx_…", project_id=1), max_examples=25)
    print(report.render())
    assert report.ok

The same from a shell: ``python -m mockserver contract --base-url URL --api-key KEY --project-id ID``.
Needs the ``contract`` extra (schemathesis, hypothesis, requests).
"""

from mockserver.contract.report import PhaseResult, Report, Skip, Violation
from mockserver.contract.runner import PHASES, Phase, Settings, run_contract
from mockserver.contract.target import Target, Unreachable

__all__ = [
    "PHASES",
    "Phase",
    "PhaseResult",
    "Report",
    "Settings",
    "Skip",
    "Target",
    "Unreachable",
    "Violation",
    "run_contract",
]
