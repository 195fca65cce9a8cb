"""What DRF says about a route: its ``Allow`` header and its ``OPTIONS`` answer.

Every DRF view answers ``OPTIONS`` with its ``SimpleMetadata`` (rest_framework/metadata.py):
the view's name and description and the media types it renders and parses. Its
``actions`` (the serializer's fields for the ``POST``/``PUT`` the caller may use) never
appear for a personal API key on PostHog: see ``MockServer._options``. Every
response of a view (an error too) carries ``Allow``: the view's methods in Django's
order (``GET, POST, PUT, PATCH, DELETE``), then ``HEAD`` when it has ``GET`` (a viewset
maps ``head`` to its ``get`` action) and ``OPTIONS``.

PostHog's REST settings (``posthog/settings/web.py@000798bf8784a9d3d2ba4f133c3486d0cc0a1669``)
render JSON only (``SafeJSONRenderer``) and keep DRF's default parsers and metadata class.
Names follow DRF's ``get_view_name``: the viewset's class name without ``ViewSet``, spaced,
plus ``List`` or ``Instance``, or an ``@action``'s name (``Run test step new``).
Descriptions are the docstrings of the actions in
``products/batch_exports/backend/api/batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd``
(empty where the class or action has none).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PARSES", "RENDERS", "allowed_methods", "view_description", "view_name"]

#: Django's ``View.http_method_names`` order, as DRF lists a view's methods.
_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")
RENDERS = ["application/json"]
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]

_COLLECTIONS = {
    "batch_exports": None,
    "runs": "Batch Export Run",
    "backfills": "Batch Export Backfill",
    "file_download_batch_exports": "File Download Batch Export On Demand",
}

_RETRY = (
    "Retry a batch export run.\n\nWe use the same underlying mechanism as when backfilling a batch export, "
    "as retrying\na run is the same as backfilling one run."
)
#: (viewset name, action) → the action's docstring as DRF prints it.
_DESCRIPTIONS = {
    ("Batch Export", "pause"): "Pause a BatchExport.",
    ("Batch Export", "unpause"): "Unpause a BatchExport.",
    ("Batch Export Organization", "pause"): "Pause a BatchExport.",
    ("Batch Export Organization", "unpause"): "Unpause a BatchExport.",
    ("Batch Export Run", "retry"): _RETRY,
    ("Batch Export Run", "cancel"): "Cancel a batch export run.",
}


def allowed_methods(methods: Iterable[str]) -> list[str]:
    """The ``Allow`` list of a route with these methods, in DRF's order."""
    present = set(methods)
    allowed = [m for m in _ORDER if m in present]
    if "GET" in present:
        allowed.append("HEAD")
    allowed.append("OPTIONS")
    return allowed


def _route(path: str) -> tuple[str, str]:
    """The viewset and the action (``list``/``instance``/an @action name) of a spec path."""
    parts = [p for p in path.strip("/").split("/") if p]
    viewset = "Batch Export Organization" if parts[:2] == ["api", "organizations"] else "Batch Export"
    action = "list"
    for index, part in enumerate(parts[3:], start=3):
        if part in _COLLECTIONS:
            viewset = _COLLECTIONS[part] or viewset
            action = "list"
        elif part.startswith("{"):
            if parts[index - 1] == "download":
                continue  # download/{part} is the download action
            action = "instance"
        else:
            action = part
    return viewset, action


def view_name(path: str) -> str:
    """DRF's ``get_view_name`` for the route; the control plane's own routes are named by their path.

    >>> view_name("/api/projects/{project_id}/batch_exports/"), view_name("/_mock/clock/advance/")
    ('Batch Export List', 'Mock clock advance')
    """
    if path.startswith("/_mock/"):
        return " ".join(["Mock", *(part for part in path.strip("/").split("/")[1:] if not part.startswith("{"))])
    viewset, action = _route(path)
    if action in ("list", "instance"):
        return f"{viewset} {action.capitalize()}"
    return action.replace("_", " ").capitalize()


def view_description(path: str) -> str:
    if path.startswith("/_mock/"):
        return ""
    viewset, action = _route(path)
    return _DESCRIPTIONS.get((viewset, action), "")
