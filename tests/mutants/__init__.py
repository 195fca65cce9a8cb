"""Deliberately broken fakes: proof that the contract suite notices when a rule is broken.

Each :class:`Mutant` is the unbroken fake with ONE property of the contract broken, the
way a plausible bug would break it: a response rewritten on its way out
(:mod:`mutants.answers`), or one method of a domain service overridden
(:mod:`mutants.domain`). The control plane (``/_mock/``) keeps working in every mutant,
since the suite relies on it for tenants, keys and the clock.

:data:`MUTANTS` lists them by name; ``tests/test_mutants.py`` runs the suite against
each and requires it to fail, and against the unbroken fake and requires it to pass.
Run as a script, that file prints the kill rate.

>>> sorted({m.kind for m in MUTANTS.values()}) == sorted(KINDS)
True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mockserver.contract.target import WSGIApp
from mutants import answers, domain

__all__ = ["KINDS", "MUTANTS", "Mutant"]

#: The kinds of property the mutants break: each mutant breaks one, each kind has a mutant or more.
KINDS = (
    "pagination",
    "persistence",
    "delete",
    "status codes",
    "error shape",
    "run lifecycle",
    "auth",
    "isolation",
    "scopes",
    "counts",
    "cursors",
    "missing fields",
    "sporadic 500",
    "links",
    "idempotence",
    "timestamps",
    "derived fields",
    "filters",
    "logs",
    "backfills",
    "secrets",
)


@dataclass(frozen=True)
class Mutant:
    """One broken fake.

    Args:
        name: how tests and reports call it.
        kind: which of :data:`KINDS` it breaks.
        build: makes a fresh broken fake (a WSGI app with the control plane).
        breaker: the class or function that does the breaking (its docstring says how).
        caught_by: the suite's properties that should report it (one of them is enough).
        phases: the phases of the suite that can catch it (the test runs only these).
    """

    name: str
    kind: str
    build: Callable[[], WSGIApp]
    breaker: Any
    caught_by: frozenset[str]
    phases: tuple[str, ...]

    @property
    def description(self) -> str:
        """The first line of the breaker's docstring."""
        return (inspect.getdoc(self.breaker) or "").splitlines()[0]


def _mutant(
    name: str, kind: str, breaker: Any, caught_by: Iterable[str], phases: Iterable[str], build: Callable[[], WSGIApp]
) -> Mutant:
    return Mutant(name, kind, build, breaker, frozenset(caught_by), tuple(phases))


def _service(broken: Any) -> Callable[[], WSGIApp]:
    return lambda: domain.with_service(broken)


#: Operations that change a pause state: the scopes mutant lets a read-only key call them.
_PAUSE_OPERATIONS = (
    "batch_exports_pause_create",
    "batch_exports_pause_create_2",
    "environments_batch_exports_pause_create",
    "batch_exports_unpause_create",
    "batch_exports_unpause_create_2",
    "environments_batch_exports_unpause_create",
)


def _pause_needs_only_read() -> WSGIApp:
    """Scopes: pause and unpause require ``batch_export:read`` instead of ``batch_export:write``.

    A read-only key can pause anyone's export of its project. Caught by ``auth.read-only``
    (every write must be 403 to a read-only key, and change nothing).
    """
    return domain.with_scope("batch_export:read", _PAUSE_OPERATIONS)


MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        _mutant(
            "pages-end-one-early",
            "pagination",
            domain.PagesEndOneEarly,
            {"pagination.slice", "pagination.walk"},
            ["exports"],
            _service(domain.PagesEndOneEarly),
        ),
        _mutant(
            "patch-not-kept",
            "persistence",
            domain.PatchNotKept,
            {"patch.persists"},
            ["exports"],
            _service(domain.PatchNotKept),
        ),
        _mutant(
            "deleted-still-retrievable",
            "delete",
            domain.DeletedStillRetrievable,
            {"delete.gone"},
            ["exports"],
            _service(domain.DeletedStillRetrievable),
        ),
        _mutant(
            "deleted-still-listed",
            "delete",
            domain.DeletedStillListed,
            {"delete.gone", "pagination.count"},
            ["exports"],
            _service(domain.DeletedStillListed),
        ),
        _mutant(
            "create-answers-200",
            "status codes",
            answers.CreateAnswers200,
            {"create"},
            ["exports"],
            answers.CreateAnswers200,
        ),
        _mutant(
            "deleted-export-is-400",
            "status codes",
            answers.DeletedExportIs400,
            {"delete.gone"},
            ["exports"],
            answers.DeletedExportIs400,
        ),
        _mutant(
            "not-found-without-attr",
            "error shape",
            answers.NotFoundWithoutAttr,
            {"error-body-shape"},
            ["exports"],
            answers.NotFoundWithoutAttr,
        ),
        _mutant(
            "unauthenticated-says-permission-denied",
            "error shape",
            answers.UnauthenticatedSaysPermissionDenied,
            {"auth.no-credentials", "auth.malformed-key"},
            ["auth"],
            answers.UnauthenticatedSaysPermissionDenied,
        ),
        _mutant(
            "retry-reopens-run",
            "run lifecycle",
            domain.RetryReopensRun,
            {"lifecycle.runs", "retry.leaves-run"},
            ["runs"],
            _service(domain.RetryReopensRun),
        ),
        _mutant(
            "cancel-accepted-when-finished",
            "run lifecycle",
            domain.CancelAcceptedWhenFinished,
            {"cancel.only-active"},
            ["runs"],
            _service(domain.CancelAcceptedWhenFinished),
        ),
        _mutant(
            "anonymous-acts-as-last-caller",
            "auth",
            answers.AnonymousActsAsLastCaller,
            {"auth.no-credentials"},
            ["auth"],
            answers.AnonymousActsAsLastCaller,
        ),
        _mutant(
            "any-project-finds-export",
            "isolation",
            domain.AnyProjectFindsExport,
            {"auth.isolation"},
            ["exports"],
            _service(domain.AnyProjectFindsExport),
        ),
        _mutant(
            "pause-needs-only-read",
            "scopes",
            _pause_needs_only_read,
            {"auth.read-only"},
            ["auth"],
            _pause_needs_only_read,
        ),
        _mutant(
            "count-includes-deleted",
            "counts",
            domain.CountIncludesDeleted,
            {"pagination.count"},
            ["exports"],
            _service(domain.CountIncludesDeleted),
        ),
        _mutant(
            "cursor-repeats-an-item",
            "cursors",
            answers.CursorRepeatsAnItem,
            {"cursor.pages"},
            ["runs"],
            answers.CursorRepeatsAnItem,
        ),
        _mutant(
            "list-omits-paused",
            "missing fields",
            answers.ListOmitsPaused,
            {"response-shape"},
            ["exports"],
            answers.ListOmitsPaused,
        ),
        _mutant(
            "export-without-latest-runs",
            "missing fields",
            answers.ExportWithoutLatestRuns,
            {"response-shape"},
            ["runs"],
            answers.ExportWithoutLatestRuns,
        ),
        _mutant(
            "every-fortieth-500",
            "sporadic 500",
            answers.EveryFortieth500,
            {"no-server-error"},
            ["auth", "exports", "runs"],
            answers.EveryFortieth500,
        ),
        _mutant(
            "next-link-without-offset",
            "links",
            answers.NextLinkWithoutOffset,
            {"pagination.walk"},
            ["exports"],
            answers.NextLinkWithoutOffset,
        ),
        _mutant(
            "links-name-internal-host",
            "links",
            answers.PreviousLinkWrongHost,
            {"pagination.links"},
            ["exports", "runs"],
            answers.PreviousLinkWrongHost,
        ),
        _mutant(
            "limit-capped-at-fifty",
            "pagination",
            domain.LimitCappedAtFifty,
            {"pagination.slice", "pagination.walk"},
            ["exports"],
            _service(domain.LimitCappedAtFifty),
        ),
        _mutant(
            "validation-error-attr-null",
            "error shape",
            answers.ValidationErrorAttrNull,
            {"invalid-input"},
            ["exports", "runs"],
            answers.ValidationErrorAttrNull,
        ),
        _mutant(
            "method-not-allowed-without-allow",
            "status codes",
            answers.MethodNotAllowedWithoutAllow,
            {"method-not-allowed"},
            ["auth", "exports"],
            answers.MethodNotAllowedWithoutAllow,
        ),
        _mutant(
            "second-pause-is-400",
            "idempotence",
            domain.SecondPauseIs400,
            {"pause.idempotent"},
            ["exports"],
            _service(domain.SecondPauseIs400),
        ),
        _mutant(
            "unpause-keeps-paused",
            "persistence",
            domain.UnpauseKeepsPaused,
            {"pause.idempotent"},
            ["exports"],
            _service(domain.UnpauseKeepsPaused),
        ),
        _mutant(
            "last-paused-at-never-set",
            "timestamps",
            domain.LastPausedAtNeverSet,
            {"timestamps"},
            ["exports"],
            _service(domain.LastPausedAtNeverSet),
        ),
        _mutant(
            "patch-resets-paused",
            "persistence",
            domain.PatchResetsPaused,
            {"patch.persists", "pause.idempotent"},
            ["exports"],
            _service(domain.PatchResetsPaused),
        ),
        _mutant(
            "created-at-bumped-on-update",
            "timestamps",
            domain.CreatedAtBumpedOnUpdate,
            {"timestamps"},
            ["exports"],
            _service(domain.CreatedAtBumpedOnUpdate),
        ),
        _mutant(
            "latest-runs-oldest-ten",
            "derived fields",
            domain.LatestRunsOldestTen,
            {"latest-runs"},
            ["runs"],
            _service(domain.LatestRunsOldestTen),
        ),
        _mutant(
            "backfill-progress-in-percent",
            "derived fields",
            answers.BackfillProgressInPercent,
            {"backfill.progress"},
            ["runs"],
            answers.BackfillProgressInPercent,
        ),
        _mutant(
            "runs-ignore-after-before",
            "filters",
            domain.RunsIgnoreAfterBefore,
            {"runs.filters"},
            ["runs"],
            _service(domain.RunsIgnoreAfterBefore),
        ),
        _mutant(
            "logs-oldest-first",
            "logs",
            domain.LogsOldestFirst,
            {"logs.order"},
            ["runs"],
            _service(domain.LogsOldestFirst),
        ),
        _mutant(
            "cancelled-run-completes-later",
            "run lifecycle",
            domain.CancelledRunCompletesLater,
            {"cancel.only-active", "cancel.stops-runs", "lifecycle.runs"},
            ["runs"],
            _service(domain.CancelledRunCompletesLater),
        ),
        _mutant(
            "backfill-completed-before-runs-end",
            "backfills",
            domain.BackfillCompletedBeforeRunsEnd,
            {"lifecycle.backfills"},
            ["runs"],
            _service(domain.BackfillCompletedBeforeRunsEnd),
        ),
        _mutant(
            "cancelled-backfill-keeps-runs-going",
            "backfills",
            domain.CancelledBackfillKeepsRunsGoing,
            {"cancel.stops-runs"},
            ["runs"],
            _service(domain.CancelledBackfillKeepsRunsGoing),
        ),
        _mutant(
            "org-list-leaks-other-orgs",
            "isolation",
            answers.OrgListLeaksOtherOrgs,
            {"auth.isolation"},
            ["exports"],
            answers.OrgListLeaksOtherOrgs,
        ),
        _mutant(
            "restricted-key-ignores-scoped-teams",
            "scopes",
            answers.RestrictedKeyIgnoresScopedTeams,
            {"auth.scoped-projects"},
            ["auth"],
            answers.RestrictedKeyIgnoresScopedTeams,
        ),
        _mutant(
            "secrets-echoed-on-create",
            "secrets",
            answers.SecretsEchoedOnCreate,
            {"secrets.hidden"},
            ["exports"],
            answers.SecretsEchoedOnCreate,
        ),
    )
}
