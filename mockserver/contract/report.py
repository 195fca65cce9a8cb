"""What a contract run found: phases, the properties each checked, and every violation.

A :class:`Report` is plain data. :meth:`Report.render` writes the readable report (each
violated property by name, what was expected, what came back, and the requests that
show it as ``curl`` lines); :meth:`Report.junit_xml` writes JUnit XML for CI, one test
case per property.

>>> report = Report(target="http://127.0.0.1:8000")
>>> phase = report.phase("exports")
>>> phase.passed("pagination")
>>> phase.failed(Violation("deleted-export-gone", expected="404", actual="200", requests=["curl …"]))
>>> report.ok, report.counts()
(False, {'passed': 1, 'failed': 1, 'skipped': 0})
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

__all__ = ["PhaseResult", "Report", "Skip", "Violation"]


@dataclass
class Violation:
    """One property that did not hold.

    Args:
        prop: the property's name (``pagination.count-matches``, ``ST:use_after_free``…).
        expected: what the contract says should happen.
        actual: what came back.
        requests: the shortest request sequence found that shows it, as ``curl`` lines.
        detail: anything else worth reading (a shrunk hypothesis example, a schema error).
    """

    prop: str
    expected: str
    actual: str
    requests: list[str] = field(default_factory=list)
    detail: str = ""


@dataclass
class Skip:
    """A property not checked, and why (no read-only key, no control plane…)."""

    prop: str
    reason: str


@dataclass
class PhaseResult:
    """One phase: the properties it checked, passed, failed or skipped."""

    name: str
    seconds: float = 0.0
    requests: int = 0
    passes: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    #: The phase itself could not run to its end (an exception in the suite or the target).
    error: str | None = None

    def passed(self, prop: str) -> None:
        if prop not in self.passes:
            self.passes.append(prop)

    def failed(self, violation: Violation) -> None:
        if violation.prop in self.passes:
            self.passes.remove(violation.prop)
        self.violations.append(violation)

    def skipped(self, prop: str, reason: str) -> None:
        self.skips.append(Skip(prop, reason))

    @property
    def ok(self) -> bool:
        return not self.violations and self.error is None


@dataclass
class Report:
    """Everything one run of the suite found."""

    target: str
    phases: list[PhaseResult] = field(default_factory=list)
    #: Objects the suite created and could not delete again (against a real target, clean them by hand).
    leftovers: list[str] = field(default_factory=list)
    seed: int | None = None
    #: Why the run stopped before its end: the target stopped answering (no verdict on it).
    unreachable: str | None = None

    def phase(self, name: str) -> PhaseResult:
        result = PhaseResult(name)
        self.phases.append(result)
        return result

    @property
    def ok(self) -> bool:
        return all(phase.ok for phase in self.phases)

    @property
    def violations(self) -> list[Violation]:
        return [v for phase in self.phases for v in phase.violations]

    @property
    def requests(self) -> int:
        return sum(phase.requests for phase in self.phases)

    def counts(self) -> dict[str, int]:
        return {
            "passed": sum(len(p.passes) for p in self.phases),
            "failed": sum(len(p.violations) + (p.error is not None) for p in self.phases),
            "skipped": sum(len(p.skips) for p in self.phases),
        }

    # -- rendering ---------------------------------------------------------------------

    def render(self) -> str:
        """The readable report: a table of phases, then every violation in full."""
        lines = [f"Contract check of {self.target}" + (f" (seed {self.seed})" if self.seed is not None else ""), ""]
        width = max((len(p.name) for p in self.phases), default=5)
        for p in self.phases:
            mark = "ok  " if p.ok else "FAIL"
            failed = len(p.violations) + (p.error is not None)  # a phase that stopped early counts, as in the total
            lines.append(
                f"  {mark} {p.name:<{width}}  {len(p.passes):>3} passed  {failed:>3} failed  "
                f"{len(p.skips):>3} skipped  {p.requests:>6} requests  {p.seconds:6.1f} s"
            )
        for p in self.phases:
            if p.error:
                lines += ["", f"Phase {p.name} stopped early: {p.error}"]
        number = 0
        for p in self.phases:
            for v in p.violations:
                number += 1
                lines += [
                    "",
                    f"{number}. [{p.name}] {v.prop}",
                    f"   expected: {v.expected}",
                    f"   got:      {v.actual}",
                ]
                if v.detail:
                    lines += ["   " + line for line in v.detail.strip().splitlines()]
                if v.requests:
                    lines.append("   reproduce with:")
                    lines += [f"     {curl}" for curl in v.requests]
        skips = [(p.name, s) for p in self.phases for s in p.skips]
        if skips:
            lines += ["", "Skipped:"]
            lines += [f"  [{name}] {s.prop}: {s.reason}" for name, s in skips]
        if self.leftovers:
            lines += ["", "Created and NOT deleted (remove them by hand):"]
            lines += [f"  {item}" for item in self.leftovers]
        counts = self.counts()
        if self.unreachable is not None:
            verdict = "no verdict: the target stopped answering, and the run stopped there"
        else:
            verdict = "the target conforms" if self.ok else "the target does NOT conform"
        lines += [
            "",
            f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped "
            f"({self.requests} requests): {verdict}.",
        ]
        return "\n".join(lines)

    def junit_xml(self) -> str:
        """JUnit XML: one ``testsuite`` per phase, one ``testcase`` per property."""
        suites = ET.Element("testsuites", name="posthog-batch-exports-contract")
        for p in self.phases:
            suite = ET.SubElement(
                suites,
                "testsuite",
                name=p.name,
                tests=str(len(p.passes) + len(p.violations) + len(p.skips) + (p.error is not None)),
                failures=str(len(p.violations)),
                errors=str(int(p.error is not None)),
                skipped=str(len(p.skips)),
                time=f"{p.seconds:.3f}",
            )
            for prop in p.passes:
                ET.SubElement(suite, "testcase", classname=p.name, name=prop)
            seen: dict[str, int] = {}
            for v in p.violations:
                # One testcase name per violation: CI tools merge (or drop) cases that share one.
                seen[v.prop] = seen.get(v.prop, 0) + 1
                name = v.prop if seen[v.prop] == 1 else f"{v.prop} ({seen[v.prop]})"
                case = ET.SubElement(suite, "testcase", classname=p.name, name=name)
                failure = ET.SubElement(case, "failure", message=f"expected {v.expected}, got {v.actual}")
                failure.text = "\n".join([v.detail, *v.requests]).strip()
            for s in p.skips:
                case = ET.SubElement(suite, "testcase", classname=p.name, name=s.prop)
                ET.SubElement(case, "skipped", message=s.reason)
            if p.error is not None:
                case = ET.SubElement(suite, "testcase", classname=p.name, name="phase")
                ET.SubElement(case, "error", message=p.error)
        if self.leftovers:
            # What a real project still holds is worth a red mark in CI, not only a line of text.
            suite = ET.SubElement(suites, "testsuite", name="cleanup", tests="1", failures="1", errors="0",
                                  skipped="0", time="0.000")  # fmt: skip
            case = ET.SubElement(suite, "testcase", classname="cleanup", name="everything created was deleted")
            failure = ET.SubElement(case, "failure", message=f"{len(self.leftovers)} object(s) NOT deleted")
            failure.text = "\n".join(self.leftovers)
        ET.indent(suites)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
