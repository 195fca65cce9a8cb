"""What DRF says about a route: its ``Allow`` header and its ``OPTIONS`` answer.

Every DRF view answers ``OPTIONS`` with its ``SimpleMetadata`` (rest_framework/metadata.py):
the view's name and description, the media types it renders and parses, and for the
``POST``/``PUT`` the caller may use, the fields of the viewset's serializer. Every
response of a view (an error too) carries ``Allow``: the view's methods in Django's
order (``GET, POST, PUT, PATCH, DELETE``), then ``HEAD`` when it has ``GET`` (a viewset
maps ``head`` to its ``get`` action) and ``OPTIONS``.

PostHog's REST settings (``posthog/settings/web.py@000798bf8784a9d3d2ba4f133c3486d0cc0a1669``)
render JSON only (``SafeJSONRenderer``) and keep DRF's default parsers and metadata class.
Names follow DRF's ``get_view_name``: the viewset's class name without ``ViewSet``, spaced,
plus ``List`` or ``Instance``, or an ``@action``'s name (``Run test step new``).
Descriptions are the docstrings of the actions in
``products/batch_exports/backend/api/batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd``
(empty where the class or action has none). Field descriptions are derived from the
spec; see ``docs/fidelity.md`` for what differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["PARSES", "RENDERS", "allowed_methods", "field_info", "view_description", "view_name", "viewset_of"]

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

Resolve = Callable[[Any], Any]


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


def viewset_of(path: str) -> str:
    """The spaced viewset name (``Batch Export Run``) a path belongs to."""
    return _route(path)[0]


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


def field_info(
    name: str, schema: Any, resolve: Resolve, *, writable: Any, required: bool
) -> dict[str, Any]:  # fmt: skip
    """``SimpleMetadata.get_field_info`` for one field, from its schema.

    ``writable`` is the field's request schema (``None``: the field is read-only).
    """
    schema = resolve(schema) or {}
    source = resolve(writable) if writable is not None else schema
    info: dict[str, Any] = {"type": _type_label(source), "required": required and writable is not None}
    info["read_only"] = writable is None
    info["label"] = name.replace("_", " ").capitalize()
    if source.get("maxLength") is not None:
        info["max_length"] = source["maxLength"]
    if source.get("minimum") is not None:
        info["min_value"] = source["minimum"]
    if source.get("maximum") is not None:
        info["max_value"] = source["maximum"]
    children = _children(source, resolve)
    if source.get("type") == "array":
        items = resolve(source.get("items", {}))
        info["child"] = field_info("", items, resolve, writable=items if writable is not None else None,
                                   required=True)  # fmt: skip
        info["child"].pop("label", None)
    elif children:
        required_children = set(source.get("required", []))
        info["children"] = {
            child: field_info(
                child,
                prop,
                resolve,
                writable=prop if writable is not None else None,
                required=child in required_children,
            )
            for child, prop in children.items()
        }
    if writable is not None and "enum" in source:
        info["choices"] = [{"value": v, "display_name": v} for v in source["enum"] if v not in (None, "")]
    return info


def _children(schema: dict[str, Any], resolve: Resolve) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        props.update(_children(resolve(part), resolve))
    props.update(schema.get("properties", {}))
    return props


def _type_label(schema: dict[str, Any]) -> str:
    """``SimpleMetadata.label_lookup`` for the DRF field the schema stands for."""
    drf_field = schema.get("x-drf-field")
    if drf_field == "primary_key":
        return "field"
    if drf_field == "nested" or schema.get("properties") or "allOf" in schema:
        return "nested object"
    kind = schema.get("type")
    if kind == "string":
        if "enum" in schema:
            return "choice"
        return {"date-time": "datetime", "date": "date"}.get(str(schema.get("format")), "string")
    if kind == "array":
        # A ListSerializer (``latest_runs``) is no ListField: DRF's lookup finds "field".
        return "field" if schema.get("items", {}).get("$ref") else "list"
    return {"integer": "integer", "number": "float", "boolean": "boolean"}.get(str(kind), "field")
