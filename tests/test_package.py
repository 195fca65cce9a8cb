"""What the package promises as a library: its public names, version, types, licence and history."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import mockserver

ROOT = Path(__file__).resolve().parent.parent

#: The public API: removing or renaming one of these is a breaking change (see CHANGELOG.md).
PUBLIC = [
    "APIError",
    "AsyncHttpxTransport",
    "Clock",
    "Fault",
    "HttpxTransport",
    "IN_PROCESS_URL",
    "JournalEntry",
    "LatencyRule",
    "MockServer",
    "Outcome",
    "PostHogMock",
    "Progression",
    "RequestsAdapter",
    "ResponseContractError",
    "Settings",
    "SettingsError",
    "Store",
    "Tenant",
    "UnusedFaults",
    "__version__",
    "intercept",
]


def test_the_public_api_is_what_it_was() -> None:
    assert sorted(mockserver.__all__) == PUBLIC


def test_every_public_name_is_defined_where_it_is_documented() -> None:
    from mockserver.domain.lifecycle import Outcome, Progression
    from mockserver.http.faults import Fault, LatencyRule
    from mockserver.http.journal import JournalEntry
    from mockserver.pytest_plugin import PostHogMock

    assert (mockserver.Outcome, mockserver.Progression) == (Outcome, Progression)
    assert (mockserver.Fault, mockserver.LatencyRule, mockserver.JournalEntry) == (Fault, LatencyRule, JournalEntry)
    assert mockserver.PostHogMock is PostHogMock
    assert all(getattr(mockserver, name) is not None for name in PUBLIC)


def test_importing_the_package_does_not_import_pytest() -> None:
    code = "import sys, mockserver; print('pytest' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "False"


def test_the_version_is_the_installed_distributions() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", mockserver.__version__)
    assert importlib.metadata.version("posthog-batch-exports-mock") == mockserver.__version__


def test_the_package_ships_its_type_hints() -> None:
    assert (ROOT / "mockserver" / "py.typed").is_file()


def test_the_licence_is_the_one_the_metadata_names() -> None:
    license_field = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert license_field == {"text": "MIT"}
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_the_changelog_follows_keep_a_changelog_and_knows_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[(.+?)\](.*)$", text, flags=re.M)
    assert headings[0] == ("Unreleased", "")
    assert all(re.fullmatch(r" - \d{4}-\d{2}-\d{2}", rest) for _, rest in headings[1:])
    assert mockserver.__version__ in {version for version, _ in headings}
    sections = set(re.findall(r"^### (.+)$", text, flags=re.M))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_tests_import_their_helpers_by_name_not_from_conftest() -> None:
    """``from conftest import …`` breaks under ``--import-mode=importlib``; ``tests/support.py`` does not."""
    offending = [
        path.name
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "conftest"
    ]
    assert offending == []
