"""URL paths → the spec path they name, with its path values, as Django's resolver does it.

>>> router = Router(["/api/projects/{project_id}/batch_exports/{id}/",
...                  "/api/projects/{project_id}/batch_exports/test/"])
>>> router.match("/api/projects/7/batch_exports/test/")
('/api/projects/{project_id}/batch_exports/test/', {'project_id': '7'})
>>> router.match("/api/projects/7/batch_exports/0190abcd/")
('/api/projects/{project_id}/batch_exports/{id}/', {'project_id': '7', 'id': '0190abcd'})
>>> router.match("/api/projects/7/batch_exports/test")[0]  # PostHog's trailing slash is optional
'/api/projects/{project_id}/batch_exports/test/'
>>> router.match("/api/projects//batch_exports/") is None  # an empty segment names nothing
True

Routing looks at the path alone; the method is checked afterwards. A literal segment
wins over a path value (``…/batch_exports/test/`` is the ``test`` action, not an export
called "test"), as DRF's router lists list-level actions before the detail route; when
the literal leads nowhere, the value is tried (``…/batch_exports/test/logs/`` is the logs
of an export called "test"). A value is one non-empty segment: it never holds a slash, so
a path with an empty segment (``…/backfills//``) matches nothing, as in Django. A path
without its trailing slash names what the slashed spelling names.

A tree of segments, walked once per path: built in well under a millisecond for the
spec's 68 paths (werkzeug's ``Map`` compiled a URL builder per rule, never used here,
and took about 20 ms of every start-up).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Router"]

#: The tree's key for "any one segment" (a ``{value}`` of the spec path): no segment holds a slash.
_VALUE = "/"


class _Node:
    __slots__ = ("children", "template")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        #: The spec path that ends here, if any.
        self.template: str | None = None


class Router:
    """Matches URL paths against spec paths such as ``/api/projects/{project_id}/batch_exports/``."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._root = _Node()
        #: template → the index and name of each of its values among the path's segments.
        self._values: dict[str, tuple[tuple[int, str], ...]] = {}
        for template in templates:
            node = self._root
            values: list[tuple[int, str]] = []
            for index, segment in enumerate(template.split("/")):
                if segment.startswith("{") and segment.endswith("}"):
                    values.append((index, segment[1:-1]))
                    segment = _VALUE
                node = node.children.setdefault(segment, _Node())
            if node.template is not None:
                raise ValueError(f"{template!r} and {node.template!r} name the same paths")
            node.template = template
            self._values[template] = tuple(values)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """``(spec path, {name: value})`` for ``path`` as sent (or with the trailing slash it may
        omit), or ``None`` if no spec path names it."""
        segments = path.split("/")
        template = _walk(self._root, segments, 0)
        if template is None and not path.endswith("/"):
            segments.append("")
            template = _walk(self._root, segments, 0)
        if template is None:
            return None
        return template, {name: segments[index] for index, name in self._values[template]}


def _walk(node: _Node, segments: list[str], index: int) -> str | None:
    if index == len(segments):
        return node.template
    segment = segments[index]
    literal = node.children.get(segment)
    if literal is not None:
        found = _walk(literal, segments, index + 1)
        if found is not None:
            return found
    value = node.children.get(_VALUE)
    if value is not None and segment:
        return _walk(value, segments, index + 1)
    return None
