"""URL paths reach the spec path Django's resolver would pick, with the same path values.

The router replaced werkzeug's ``Map``; werkzeug's matcher, configured as the fake used it
(no slash merging, slashless spellings tried with the slash), is kept here as the reference
that any path, generated or hand-picked, must route alike.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from mockserver.http.routing import Router
from mockserver.http.spec import load_spec

TEMPLATES = sorted({op.path for op in load_spec(profile="current").operations.values()})
ROUTER = Router(TEMPLATES)
REFERENCE = Map(
    [Rule(re.sub(r"\{(\w+)\}", r"<\1>", t), endpoint=t) for t in TEMPLATES], strict_slashes=False, merge_slashes=False
).bind("localhost")


def route(path: str) -> tuple[str, dict[str, str]] | None:
    return ROUTER.match(path)


def reference(path: str) -> tuple[str, dict[str, str]] | None:
    """werkzeug as the app called it: no empty segment, then the path as sent or slashed."""
    if "//" in path:
        return None
    for candidate in (path, path + "/") if not path.endswith("/") else (path,):
        try:
            endpoint, values = REFERENCE.match(candidate, method="GET")
        except (NotFound, MethodNotAllowed):
            continue
        return str(endpoint), dict(values)
    return None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/api/projects/1/batch_exports/test/",
            ("/api/projects/{project_id}/batch_exports/test/", {"project_id": "1"}),
        ),
        (
            "/api/projects/1/batch_exports/test/logs/",
            ("/api/projects/{project_id}/batch_exports/{id}/logs/", {"project_id": "1", "id": "test"}),
        ),
        (
            "/api/projects/1/batch_exports/e1/runs/r1/logs",
            (
                "/api/projects/{project_id}/batch_exports/{batch_export_id}/runs/{id}/logs/",
                {"project_id": "1", "batch_export_id": "e1", "id": "r1"},
            ),
        ),
        ("/", ("/", {})),
        ("/api/projects//batch_exports/", None),
        ("/api/projects/1/batch_exports/e1/nothing/", None),
        ("/api/projects/1", None),
    ],
)
def test_literal_segments_win_and_values_are_tried_when_they_lead_nowhere(
    path: str, expected: tuple[str, dict[str, str]] | None
) -> None:
    assert route(path) == expected
    assert reference(path) == expected


_LITERALS = sorted({s for t in TEMPLATES for s in t.split("/") if s and not s.startswith("{")})
_SEGMENT = st.one_of(st.sampled_from(_LITERALS), st.sampled_from(["1", "0190-ab", "test", "é", "a.b", "%2F", ""]))


@settings(max_examples=400, deadline=None)
@given(
    template=st.sampled_from(TEMPLATES),
    swaps=st.lists(st.tuples(st.integers(0, 8), _SEGMENT), max_size=3),
    slash=st.booleans(),
)
def test_any_path_routes_as_werkzeug_routed_it(template: str, swaps: list[tuple[int, str]], slash: bool) -> None:
    segments = template.split("/")
    for index, segment in swaps:
        segments[min(index, len(segments) - 1)] = segment
    path = "/".join(segments)
    path = path if slash or not path.endswith("/") or path == "/" else path[:-1]
    if not path.startswith("/"):
        return  # never a WSGI path
    assert route(path) == reference(path)


def test_two_templates_naming_the_same_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="name the same paths"):
        Router(["/a/{x}/", "/a/{y}/"])
