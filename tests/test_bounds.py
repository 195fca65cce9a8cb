"""The spec's bounds and choice sets match the audit table in ``docs/fidelity.md``.

Every numeric bound, length limit and choice set the spec puts on PostHog's API is a row
of the "Bounds audit" table, with PostHog's own value and where it is read from
(``file@commit``). Changing a bound in the spec without auditing it again fails here, and
so does a table row for a bound the spec no longer has.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from support import Api, error

from mockserver.http.spec import HTTP_METHODS, load_spec

ROOT = Path(__file__).resolve().parents[1]
FIDELITY = ROOT / "docs" / "fidelity.md"
BOUND_KEYS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "multipleOf",
    "enum",
)
#: Choice sets longer than this are shown by their size (the timezone list).
_LONG = 16


def render(node: dict[str, Any]) -> str:
    """One schema's bounds, as the table's "Spec" column shows them."""
    parts = []
    for key in BOUND_KEYS:
        if key not in node:
            continue
        value = node[key]
        if key == "enum":
            shown = [("null" if v is None else repr(v) if v == "" else str(v).lower() if isinstance(v, bool) else v)
                     for v in value]  # fmt: skip
            parts.append(f"enum ({len(value)} values)" if len(value) > _LONG else f"enum {', '.join(map(str, shown))}")
        else:
            parts.append(f"{key} {value}")
    return "; ".join(parts)


def posthog_bounds() -> dict[str, str]:
    """``location → bounds`` for both profiles: ``docs``, plus what ``current`` has otherwise (``… [current]``)."""
    docs, current = profile_bounds("docs"), profile_bounds("current")
    return {**docs, **{f"{loc} [current]": v for loc, v in current.items() if docs.get(loc) != v}}


def profile_bounds(profile: str) -> dict[str, str]:
    """``location → bounds`` for every schema reachable from PostHog's operations in one profile."""
    spec = load_spec(profile=profile)
    document = spec.document
    found: dict[str, str] = {}
    seen: set[str] = set()

    def walk(node: Any, location: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{location}/{index}")
            return
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            ref = node["$ref"]
            if ref not in seen:
                seen.add(ref)
                target: Any = document
                for part in ref.lstrip("#/").split("/"):
                    target = target[part]
                walk(target, ref.removeprefix("#/components/"))
            return
        if rendered := render(node):
            found[location] = rendered
        for key, value in node.items():
            if key not in ("example", "examples", "description", "default"):
                walk(value, f"{location}/{key}")

    for path, item in document["paths"].items():
        if not path.startswith("/api/"):
            continue  # the control plane is the fake's own
        for method, node in item.items():
            if isinstance(node, dict) and "mock_control" in node.get("tags", ()):
                continue  # /api/schema/ is the fake's own too
            if method in HTTP_METHODS or method == "parameters":
                walk(node, f"paths{path}{method}")
    return found


def audit_table() -> dict[str, tuple[str, str, str]]:
    """``location → (spec, PostHog, source)`` from the table in docs/fidelity.md."""
    text = FIDELITY.read_text()
    section = text.split("## Bounds audit", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) != 4 or cells[0] in ("Spec location", "") or set(cells[0]) <= {"-"}:
            continue
        rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2], cells[3])
    return rows


def test_every_bound_in_the_spec_is_audited_with_its_value() -> None:
    table = audit_table()
    spec = posthog_bounds()

    assert sorted(set(spec) - set(table)) == [], "bounds in the spec missing from the audit table"
    assert sorted(set(table) - set(spec)) == [], "audit rows for bounds the spec no longer has"
    assert {loc: row[0] for loc, row in table.items()} == spec


def test_every_audit_row_names_posthogs_value_and_source() -> None:
    for location, (_, posthog, source) in audit_table().items():
        assert posthog, location
        assert re.search(r"`[\w/.]+@[0-9a-f]{8,40}`|drf-exceptions-hog|rest_framework", source), (location, source)


def test_the_file_download_size_has_posthogs_minimum() -> None:
    assert posthog_bounds()["schemas/FileDownloadFileOptions/properties/max_size_mb"] == "minimum 0"


def test_a_negative_file_download_size_is_refused(api: Api) -> None:
    response = api.post(
        "/file_download_batch_exports/",
        json={
            "file": {"format": "JSONLines", "max_size_mb": -1},
            "model": "events",
            "data_interval_start": "2020-01-01T00:00:00Z",
            "data_interval_end": "2020-01-01T01:00:00Z",
        },
    )

    assert response.status_code == 400
    assert response.json == error(
        "min_value", "Ensure this value is greater than or equal to 0.", attr="file__max_size_mb"
    )
