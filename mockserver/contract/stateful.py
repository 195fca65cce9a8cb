"""Running a hypothesis state machine against a target, and turning its failure into a report entry.

Each phase of domain properties is a :class:`ContractMachine`: a ``RuleBasedStateMachine``
that holds a small reference model of what it did, drives the target through a
:class:`~mockserver.contract.target.Client`, and raises
:class:`~mockserver.contract.model.PropertyViolation` when an answer breaks a property.
:func:`run_machine` runs it with the run's seed and example budget; hypothesis then
shrinks a failure to the shortest sequence of steps, and the requests of that final
replay become the report's ``curl`` lines.

Strategies depend only on the model, never on what the target answered, so a live
server that cannot be reset still gives hypothesis the same choices on replay.
"""

from __future__ import annotations

import traceback
from typing import Any, ClassVar
from urllib.parse import urlsplit

from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from hypothesis.reporting import with_reporter
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test

from mockserver.contract.model import PropertyViolation, error_shape_problem
from mockserver.contract.report import PhaseResult, Violation
from mockserver.contract.target import Client, Exchange, Response, Unreachable
from mockserver.contract.workspace import Credentials, Workspace

__all__ = ["ContractMachine", "MachineRun", "run_machine"]


class MachineRun:
    """What the machines of one phase share: the workspace, the credentials, the latest requests."""

    def __init__(self, workspace: Workspace, credentials: Credentials, result: PhaseResult) -> None:
        self.workspace = workspace
        self.credentials = credentials
        self.result = result
        #: The requests of the machine run in progress (the last one, after a failure),
        #: the control plane's included: they are part of the reproduction.
        self.history: list[Exchange] = []
        #: The first violation of the example in progress: when hypothesis cannot replay a
        #: failure on a target whose state moved on (``Flaky``), this is what it found.
        self.first_violation: PropertyViolation | None = None
        #: The credentials of the example in progress (its keys are redacted from the report).
        self.current = credentials
        #: The properties some answer has met so far in this machine's run.
        self.checked: set[str] = set()
        if workspace.control is not None:
            workspace.control.client.history = self.history

    def credentials_for_example(self) -> Credentials:
        """A fresh tenant for every example where the control plane can mint one, so that no
        example sees what an earlier one left; the phase's own credentials elsewhere."""
        if self.workspace.control is None:
            return self.credentials
        return self.workspace.credentials()

    def client(self, api_key: str | None) -> Client:
        return self.workspace.client(api_key, history=self.history)


class ContractMachine(RuleBasedStateMachine):
    """Base of the suite's state machines: clients for each key, and checks shared by all.

    Subclasses are bound to a :class:`MachineRun` by :func:`run_machine` (``run``).
    """

    run: ClassVar[MachineRun]
    #: The properties this machine checks (reported as passed when no example broke them).
    PROPERTIES: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        run = type(self).run
        run.history.clear()
        run.first_violation = None
        creds = run.current = run.credentials_for_example()
        self.creds = creds
        self.workspace = run.workspace
        self.api = run.client(creds.api_key)
        self.read_only = run.client(creds.read_only_key) if creds.read_only_key else None
        self.anonymous = run.client(None)
        self.foreign = run.client(creds.foreign_key) if creds.foreign_key else None
        self.project = f"/api/projects/{creds.project_id}"

    # -- checks every machine uses ---------------------------------------------------

    def violation(self, prop: str, expected: str, actual: str) -> PropertyViolation:
        """A violation, remembered as the example's first if it is."""
        found = PropertyViolation(prop, expected, actual)
        run = type(self).run
        if run.first_violation is None:
            run.first_violation = found
        return found

    def expect(self, prop: str, response: Response, *statuses: int, code: str | None = None) -> Any:
        """The response's JSON, after checking its status (and, for an error, its body and ``code``)."""
        checked = type(self).run.checked
        if response.status >= 500:
            raise self.violation("no-server-error", "a status below 500", f"{response.status} {response.text[:200]}")
        checked.add("no-server-error")
        if response.status not in statuses:
            wanted = " or ".join(map(str, statuses))
            raise self.violation(prop, wanted, f"{response.status} {response.text[:300]}")
        if response.status >= 400:
            problem = error_shape_problem(response.json)
            if problem is not None:
                raise self.violation(
                    "error-body-shape", "PostHog's {type, code, detail, attr}", f"{problem}: {response.text[:200]}"
                )
            checked.add("error-body-shape")
            if code is not None and response.json["code"] != code:
                raise self.violation(prop, f"{response.status} with code {code!r}", response.text[:300])
        checked.update((prop, "response-shape"))  # an answer read and understood
        return response.json

    def check(self, prop: str, condition: bool, expected: str, actual: Any) -> None:
        if not condition:
            raise self.violation(prop, expected, str(actual)[:500])
        type(self).run.checked.add(prop)

    def before_examples(self) -> None:
        """Checks made once per run, before hypothesis' examples (too costly to make in each)."""

    def check_link(self, prop: str, link: str | None) -> None:
        """A ``next``/``previous`` link, when absolute, names the host the request was sent to:
        a client follows it as it stands (one behind a proxy that ignores ``Host`` does not).
        Host names compare in any case, and a scheme's default port is no port."""
        if not link or not urlsplit(link).netloc:
            return
        asked = self.api.transport.base_url
        self.check(prop, _origin(link) == _origin(asked), f"a link to {urlsplit(asked).netloc}", link)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, int | None]:
    """Host and port of an absolute URL, the port ``None`` when it is the scheme's default.

    >>> _origin("https://US.posthog.com:443/api/"), _origin("http://127.0.0.1:8000/")
    (('us.posthog.com', None), ('127.0.0.1', 8000))
    """
    parts = urlsplit(url)
    port = parts.port
    return (parts.hostname or "", None if port == _DEFAULT_PORTS.get(parts.scheme) else port)


def run_machine(machine: type[ContractMachine], run: MachineRun, *, max_examples: int, seed: int, steps: int) -> None:
    """Run ``machine`` with the run's budget; record its properties as passed or its violation."""
    bound = type(machine.__name__, (machine,), {"run": run})
    config = settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        print_blob=False,
    )
    steps_seen: list[object] = []
    failure: BaseException | None = None
    run.checked = set()
    try:
        with with_reporter(steps_seen.append):
            once = bound()
            try:
                once.before_examples()
            finally:
                once.teardown()
            _seeded(bound, config, seed)
    except PropertyViolation as exc:
        failure = exc
    except Unreachable:
        raise  # not the target's answer: the run stops (the command exits 2)
    except Flaky as exc:
        # The target broke a property once but not the same way on replay (a sporadic
        # error, or state that moved on): still a violation, the first one it showed.
        failure = _first_violation(exc) or run.first_violation or exc
    except Exception as exc:  # noqa: BLE001 - a KeyError on a malformed answer is the target's failure too
        failure = exc
    lost = getattr(run.workspace.transport, "lost", None)
    if lost is not None:
        # The target stopped answering during the run: whatever hypothesis made of that on
        # replay (a Flaky, an inconsistent generation), it is no verdict on the target.
        raise Unreachable(lost)
    if failure is None:
        for prop in machine.PROPERTIES:
            run.result.passed(prop)
        return
    curls = [e.curl(redact=_keys(run.current)) for e in reproduction(run.history)]
    detail = "\n".join(str(line) for line in steps_seen if str(line).strip())
    if isinstance(failure, PropertyViolation):
        violation = Violation(failure.prop, failure.expected, failure.actual, curls, detail)
    else:
        text = "".join(traceback.format_exception_only(type(failure), failure)).strip()
        violation = Violation(
            "response-shape", "answers the suite can read (the documented fields)", text[:500], curls, detail
        )
    # The run stopped at the first violation: what no answer had met by then was not checked.
    for prop in machine.PROPERTIES:
        if prop == violation.prop:
            continue
        if prop in run.checked:
            run.result.passed(prop)
        else:
            run.result.skipped(prop, f"not reached: the run stopped at {violation.prop}")
    run.result.failed(violation)


def _seeded(machine: type[ContractMachine], config: settings, seed: int) -> None:
    """``run_state_machine_as_test`` with a fixed seed: the same run's choices every time."""
    from hypothesis import seed as fixed_seed

    test = get_state_machine_test(machine, settings=config, _flaky_state={"selecting_rule": False})
    fixed_seed(seed)(test)()


def reproduction(history: list[Exchange]) -> list[Exchange]:
    """The requests that replay a failure: every one that may change state, then the reads since the last of them.

    Reads change nothing, so those before the last write are dropped; those after it stay:
    a walk of pages shows the ``next`` link that led to the page that broke the property.
    """
    writes = [i for i, e in enumerate(history) if e.method not in ("GET", "HEAD")]
    since = writes[-1] + 1 if writes else 0
    return [history[i] for i in writes] + history[since:]


def _first_violation(exc: BaseException) -> PropertyViolation | None:
    for inner in getattr(exc, "exceptions", ()):
        if isinstance(inner, PropertyViolation):
            return inner
        found = _first_violation(inner)
        if found is not None:
            return found
    return None


def _keys(creds: Credentials) -> list[str]:
    return creds.redact(creds.api_key, creds.read_only_key, creds.foreign_key)
