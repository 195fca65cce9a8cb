"""The project owns its knowledge: it cites PostHog's source, never notes kept elsewhere.

Where behaviour follows PostHog, code and docs say what PostHog does and cite the file as
``path@commit`` with the full commit, and ``docs/posthog-sources.md`` lists every file
cited. A citation of a document outside the repository (a section number, a name for a
version of PostHog that only such a document defines) would leave a reader unable to
check the claim.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES_INDEX = ROOT / "docs" / "posthog-sources.md"
TEXT_FILES = sorted(
    {
        *ROOT.glob("*.md"),
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("spec/*.yaml"),
        *ROOT.glob("mockserver/**/*.py"),
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("bench/*.py"),
        *ROOT.glob("bench/*.md"),
        ROOT / "Makefile",
        ROOT / "pyproject.toml",
    }
)
#: ``file.py@commit`` (any abbreviation): the form a citation of PostHog's source takes.
CITATION = re.compile(r"([\w./-]+\.(?:py|md|yaml|yml|toml))@([0-9a-f]{6,40})\b")
#: Ways of pointing at notes kept outside the repository (assembled so this file does not match itself).
OUTSIDE = [
    re.compile(r"\b" + "reference" + r"\s*§"),
    re.compile("§" + r"\s*\d"),
    re.compile(r"\b" + "Era" + r" [ABC]\b"),
    re.compile("reference" + " notes"),
    re.compile("posthog" + "-behaviour"),
]


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_files_are_found() -> None:
    names = {_relative(p) for p in TEXT_FILES}
    assert {"README.md", "docs/fidelity.md", "mockserver/domain/store.py", "spec/openapi.yaml"} <= names


@pytest.mark.parametrize("pattern", OUTSIDE, ids=lambda p: p.pattern)
def test_nothing_cites_notes_outside_the_repository(pattern: re.Pattern[str]) -> None:
    found = [
        f"{_relative(path)}:{number}: {line.strip()}"
        for path in TEXT_FILES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_every_citation_has_a_full_commit_listed_in_the_index() -> None:
    index = SOURCES_INDEX.read_text()
    found = []
    for path in TEXT_FILES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for cited, commit in CITATION.findall(line):
                if len(commit) != 40:
                    found.append(f"{_relative(path)}:{number}: {cited}@{commit} is not a full commit")
                elif commit not in index:
                    found.append(f"{_relative(path)}:{number}: {cited}@{commit} is not in docs/posthog-sources.md")
    assert found == []


def test_the_index_names_each_file_with_full_commits() -> None:
    rows = [line for line in SOURCES_INDEX.read_text().splitlines() if line.startswith("| `")]
    assert len(rows) > 30
    for row in rows:
        commits = re.findall(r"`([0-9a-f]+)`", row)
        assert commits, row
        assert all(len(c) == 40 for c in commits), row


def test_the_checks_see_what_they_should() -> None:
    assert CITATION.findall("see `posthog/auth.py@" + "0193a92a`.") == [("posthog/auth.py", "0193a92a")]
    assert CITATION.findall("@dataclass, @current, user@example.com") == []
    assert any(p.search("as the reference " + "§" + "2.1 says") for p in OUTSIDE)
    assert any(p.search("(" + "Era" + " B)") for p in OUTSIDE)
