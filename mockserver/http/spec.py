"""The OpenAPI document, loaded once, and the operation table derived from it.

``spec/openapi.yaml`` is the single source of truth: routes, operationIds, required
scopes and request/response schemas all come from it. It ships inside the package
(``mockserver/openapi.yaml`` links to it in a checkout; the wheel carries the file).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mockserver.domain.models import DEFAULT_PROFILE, PROFILES, check_profile
from mockserver.http.spec_cache import load_document

__all__ = [
    "DEFAULT_PROFILE",
    "HTTP_METHODS",
    "PROFILES",
    "Operation",
    "Spec",
    "canonical_name",
    "for_profile",
    "operation_suggestions",
    "unknown_operation",
    "load_spec",
    "packaged_document",
    "spec_path",
]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def spec_path() -> Path:
    """Where the packaged OpenAPI document lives on disk."""
    return Path(str(resources.files("mockserver") / "openapi.yaml"))


def canonical_name(operation_id: str) -> str:
    """``environments_batch_exports_list`` / ``batch_exports_list_2`` → ``batch_exports_list``.

    The three URL spellings of one operation (project, environment, organization) share
    one handler, one fault and one journal filter under this name.

    >>> canonical_name("environments_batch_exports_runs_list"), canonical_name("batch_exports_list_2")
    ('batch_exports_runs_list', 'batch_exports_list')
    """
    name = operation_id.removeprefix("environments_")
    return name[:-2] if name.endswith("_2") else name


def unknown_operation(operation: str, known: Collection[str], what: str = "PostHog's batch-exports API") -> ValueError:
    """The error for an operation name that names nothing, with the names it may have meant.

    Operation names are the spec's operationIds, which are DRF's: an action's name ends in
    its method's verb (``batch_exports_pause_create``), which nobody guesses.

    >>> error = unknown_operation("batch_exports_pause", ["batch_exports_pause_create", "backfills_list"])
    >>> str(error).split("; ")[1]
    'did you mean batch_exports_pause_create?'
    >>> print(unknown_operation("environments_", ["batch_exports_list"], what="the fake"))
    'environments_' is not an operation of the fake (the operationIds of the document at /api/schema/)
    """
    close = operation_suggestions(operation, known)
    hint = f"; did you mean {' or '.join(close)}?" if close else " (the operationIds of the document at /api/schema/)"
    return ValueError(f"{operation!r} is not an operation of {what}{hint}")


def operation_suggestions(operation: str, known: Collection[str]) -> list[str]:
    """Up to three of ``known`` that ``operation`` may have meant: those containing it (PostHog's
    before the control plane's ``mock_…``, shortest first), then close ones.

    >>> operation_suggestions("runs_cancel", ["batch_exports_runs_cancel_create", "batch_exports_list"])
    ['batch_exports_runs_cancel_create']
    >>> operation_suggestions("create", ["mock_reset_create", "batch_exports_pause_create", "batch_exports_create"])
    ['batch_exports_create', 'batch_exports_pause_create', 'mock_reset_create']
    """
    name = canonical_name(operation)
    if not name:
        return []
    containing = sorted((k for k in known if name in k), key=lambda k: (k.startswith("mock_"), len(k), k))
    return list(dict.fromkeys([*containing, *difflib.get_close_matches(name, sorted(known), n=3)]))[:3]


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, as the fake needs it."""

    operation_id: str
    method: str
    path: str
    tag: str
    #: The one personal-API-key scope it needs; ``None`` for control-plane operations.
    scope: str | None
    #: ``"team"``, ``"organization"`` or ``"control"``: which kind of tenant the path names.
    level: str
    #: Query parameters whose invalid values fall back to the default instead of failing
    #: (``x-fallback-on-invalid``; DRF's limit/offset pagination does this).
    lenient_params: frozenset[str] = field(default_factory=frozenset)
    has_body: bool = False
    #: Query parameters that repeat (``status``): an empty value is a value there.
    array_params: frozenset[str] = field(default_factory=frozenset)
    #: Every query parameter the document declares for it.
    query_params: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        """The canonical name (:func:`canonical_name`) its handler, faults and journal use."""
        return canonical_name(self.operation_id)


class Spec:
    """The parsed document plus lookups over it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        #: The profile of PostHog's API this document describes (see :data:`PROFILES`).
        self.profile = DEFAULT_PROFILE
        self.operations: dict[str, Operation] = {}
        for path, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue
                params = [self.resolve(p) for p in (*shared, *op.get("parameters", []))]
                security = op.get("security", document.get("security", []))
                scopes = [s for requirement in security for s in requirement.get("PersonalAPIKeyAuth", [])]
                operation = Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    tag=(op.get("tags") or [""])[0],
                    scope=scopes[0] if scopes else None,
                    # The fake's own routes (``/``, ``/api/schema/``, ``/_mock/…``) need no key.
                    level="control" if "mock_control" in op.get("tags", ()) else _level(path),
                    lenient_params=frozenset(
                        p["name"] for p in params if p.get("in") == "query" and p.get("x-fallback-on-invalid")
                    ),
                    has_body="requestBody" in op,
                    array_params=frozenset(
                        p["name"]
                        for p in params
                        if p.get("in") == "query" and self.resolve(p.get("schema", {})).get("type") == "array"
                    ),
                    query_params=frozenset(p["name"] for p in params if p.get("in") == "query"),
                )
                self.operations[operation.operation_id] = operation

    def resolve(self, node: Any) -> Any:
        """Follow a local ``$ref`` (``#/components/...``) to its target."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def request_schema(self, operation_id: str) -> dict[str, Any] | None:
        """The resolved JSON request-body schema of an operation, if it takes one."""
        op = self.operation_node(operation_id)
        body = self.resolve(op.get("requestBody"))
        if not body:
            return None
        schema = body.get("content", {}).get("application/json", {}).get("schema")
        return self.resolve(schema) if schema else None

    def operation_node(self, operation_id: str) -> dict[str, Any]:
        operation = self.operations[operation_id]
        node: dict[str, Any] = self.document["paths"][operation.path][operation.method.lower()]
        return node


def _level(path: str) -> str:
    if path.startswith("/api/organizations/"):
        return "organization"
    if path.startswith("/api/"):
        return "team"
    return "control"


def for_profile(node: Any, profile: str) -> Any:
    """The document as one profile sees it.

    Two extensions mark what differs: ``x-profile: current`` on a node (a property, an
    operation) that exists only in that profile, and ``x-profile-override: {current: {…}}``
    whose keys replace the node's own in that profile (a longer ``enum``). Without them a
    node belongs to every profile.
    """
    if isinstance(node, list):
        return [for_profile(item, profile) for item in node if _in_profile(item, profile)]
    if not isinstance(node, dict):
        return node
    out = {key: for_profile(value, profile) for key, value in node.items() if _in_profile(value, profile)}
    out.pop("x-profile", None)
    override = out.pop("x-profile-override", None)
    if isinstance(override, dict) and profile in override:
        out.update(override[profile])
    return out


def _in_profile(node: Any, profile: str) -> bool:
    return not isinstance(node, dict) or node.get("x-profile", profile) == profile


def load_spec(path: str | None = None, profile: str = DEFAULT_PROFILE) -> Spec:
    """Parse the document once per process and profile (it is immutable, so sharing it is safe)."""
    check_profile(profile)
    return _load_spec(str(path) if path else None, profile)


@functools.lru_cache(maxsize=8)
def _load_spec(path: str | None, profile: str) -> Spec:
    # One key per (file, profile), however the caller spelled the defaults.
    spec = Spec(for_profile(_parse(path), profile))
    spec.profile = profile
    return spec


def packaged_document() -> Any:
    """The packaged document as parsed (all profiles, extensions included); shared, so never change it."""
    return _parse(None)


@functools.lru_cache(maxsize=4)
def _parse(path: str | None) -> Any:
    """The YAML document, parsed once for all profiles.

    The packaged document is read from the JSON copy an earlier start left
    (:mod:`~mockserver.http.spec_cache`); another file is parsed each time. Shared, never
    changed: :func:`for_profile` copies every container it keeps.
    """
    if path:
        return _parse_yaml(Path(path).read_text())
    return load_document(spec_path(), _parse_yaml)


def _parse_yaml(text: str) -> Any:
    import yaml  # imported only when there is YAML to parse: a start from the copy never needs it

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
