"""The contract suite as pytest tests: one test per phase, in any project's test suite.

In a test module of your own::

    from mockserver.contract.pytest import contract_tests

    test_posthog_contract = contract_tests()

collects ``test_posthog_contract[auth]``, ``[exports]``, ``[runs]`` and ``[schemathesis]``
(and ``[differential]`` with a reference). Each runs its phase and fails with the report's
violations, ``curl`` lines included. The target comes from the environment, so the same
module checks the in-process fake on a laptop and a real PostHog in CI:

==================================  =============================================================
``POSTHOG_CONTRACT_BASE_URL``       where the implementation listens (unset: an in-process fake)
``POSTHOG_CONTRACT_API_KEY``        its personal API key (read and write)
``POSTHOG_CONTRACT_PROJECT_ID``     the one project the suite may use
``POSTHOG_CONTRACT_ORGANIZATION_ID`` the project's organization (optional)
``POSTHOG_CONTRACT_READ_ONLY_API_KEY`` a read-only key, for the scope checks (optional)
``POSTHOG_CONTRACT_PROFILE``        ``docs`` (default) or ``current`` (today's PostHog, as PostHog Cloud answers)
``POSTHOG_CONTRACT_REFERENCE_URL``  a reference to compare with, with ``…_REFERENCE_API_KEY``
                                    and ``…_REFERENCE_PROJECT_ID`` (optional)
``POSTHOG_CONTRACT_MAX_EXAMPLES``   examples per state machine and operation (default 25)
``POSTHOG_CONTRACT_SEED``           fixes every choice (default 0)
==================================  =============================================================

Or pass ``contract_tests(target=Target(...))`` explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from mockserver.contract.runner import PHASES, run_contract
from mockserver.contract.target import Target
from mockserver.http.spec import DEFAULT_PROFILE, PROFILES

__all__ = ["contract_tests", "target_from_environment"]

_PREFIX = "POSTHOG_CONTRACT_"


def target_from_environment(environ: Mapping[str, str] | None = None, prefix: str = _PREFIX) -> Target | None:
    """The target the ``POSTHOG_CONTRACT_*`` variables name, or ``None`` when no base URL is set.

    >>> target_from_environment({"POSTHOG_CONTRACT_BASE_URL": "http://127.0.0.1:8000",
    ...                          "POSTHOG_CONTRACT_API_KEY": "phx_x", "POSTHOG_CONTRACT_PROJECT_ID": "1"}).project_id
    1
    >>> target_from_environment({}) is None
    True
    """
    env = os.environ if environ is None else environ
    url = env.get(f"{prefix}BASE_URL")
    if not url:
        return None
    missing = [name for name in ("API_KEY", "PROJECT_ID") if not env.get(f"{prefix}{name}")]
    if missing:
        raise pytest.UsageError(f"{prefix}BASE_URL is set but {', '.join(prefix + m for m in missing)} is not")
    profile = env.get(f"{prefix}PROFILE") or DEFAULT_PROFILE
    if profile not in PROFILES:
        raise pytest.UsageError(f"{prefix}PROFILE: one of {', '.join(PROFILES)}, not {profile!r}")
    return Target(
        url,
        env[f"{prefix}API_KEY"],
        int(env[f"{prefix}PROJECT_ID"]),
        env.get(f"{prefix}ORGANIZATION_ID") or None,
        env.get(f"{prefix}READ_ONLY_API_KEY") or None,
        profile=profile,
    )


def _in_process(profile: str) -> Target:
    from mockserver.http.app import MockServer

    fake = MockServer(strict=True)
    tenant = fake.store.create_tenant(profile=profile)
    return Target.in_process(fake, api_key=tenant.api_key, project_id=tenant.project_id, profile=profile)


def contract_tests(
    target: Target | None = None,
    *,
    reference: Target | None = None,
    max_examples: int | None = None,
    seed: int | None = None,
    phases: list[str] | None = None,
) -> Callable[[str], None]:
    """A test function parametrized by phase; assign it to a ``test_*`` name in a test module.

    ``phases`` picks some of them (all by default).
    """
    env = os.environ
    reference = reference or target_from_environment(
        {
            k.replace("REFERENCE_URL", "BASE_URL").replace("REFERENCE_", ""): v
            for k, v in env.items()
            if k.startswith(f"{_PREFIX}REFERENCE_") or k == f"{_PREFIX}PROFILE"  # one profile for both
        }
    )
    examples = max_examples if max_examples is not None else int(env.get(f"{_PREFIX}MAX_EXAMPLES", "25"))
    fixed_seed = seed if seed is not None else int(env.get(f"{_PREFIX}SEED", "0"))
    if phases is None:
        phases = [p.name for p in PHASES] + (["differential"] if reference else [])

    @pytest.mark.parametrize("phase", phases)
    def test_contract(phase: str) -> None:
        from mockserver.contract.cli import preflight

        given = target or target_from_environment()
        chosen = given or _in_process(env.get(f"{_PREFIX}PROFILE") or DEFAULT_PROFILE)
        extra: dict[str, Any] = {"reference": reference} if phase == "differential" else {}
        # The command's checks first: a wrong key or project is a broken set-up, not a
        # target that conforms (against the fake, the suite would work in tenants of its own).
        checked: list[tuple[str, Target | None]] = [("target", given), ("reference", extra.get("reference"))]
        for name, candidate in checked:
            if candidate is None:
                continue
            problem = preflight(candidate)
            if problem:
                pytest.fail(f"{name} {candidate.display_url}: {problem}", pytrace=False)
        report = run_contract(chosen, max_examples=examples, seed=fixed_seed, only=[phase], **extra)
        if report.unreachable is not None:
            pytest.fail(f"the target stopped answering: {report.unreachable}", pytrace=False)
        if not report.ok:
            pytest.fail(report.render(), pytrace=False)
        skipped = [s for p in report.phases for s in p.skips]
        if skipped and not [p for p in report.phases if p.passes]:
            pytest.skip("; ".join(f"{s.prop}: {s.reason}" for s in skipped))

    return test_contract
