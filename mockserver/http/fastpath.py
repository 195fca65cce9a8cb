"""Fast validation compiled from the spec: most requests never reach openapi-core.

openapi-core resolves ``$ref`` s and builds validators on every call (2–4 ms a request).
At start-up this module converts the spec's schemas once to JSON Schema (OpenAPI 3.0's
``nullable`` becomes a ``"null"`` type) and compiles, per operation, a ``jsonschema_rs``
validator for the body and one per query parameter, plus one per documented response.

It only ever answers "valid": :meth:`FastValidator.parse_request` returns the parsed
request when every check passes and ``None`` otherwise, and the caller then asks
openapi-core, which stays the authority for what exactly is wrong (and so for the
DRF-shaped error). The property tests in ``tests/test_fastpath.py`` check that both
agree on what is valid. Formats follow openapi-core's: ``uuid``, ``int64``/``int32``
ranges, ``date`` and the DRF-lenient ``date-time``; ``uri`` is not checked.
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import orjson
from werkzeug.datastructures import MultiDict

from mockserver.domain.dates import parse_datetime
from mockserver.http.parsed import ParsedRequest
from mockserver.http.spec import Spec

__all__ = ["FastValidator"]

_BASE = "urn:posthog-batch-exports-mock:spec"


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_CANONICAL_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z\Z")


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str) or _CANONICAL_UUID.match(value):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return all(value[i] == "-" for i in (8, 13, 18, 23)) if len(value) == 36 else False


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str) or _CANONICAL_DATETIME.match(value):
        return True  # what the fake itself writes: no need to parse
    return parse_datetime(value) is not None


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


FORMATS = {
    "uuid": _is_uuid,
    "date-time": _is_datetime,
    "date": _is_date,
    "uri": lambda value: True,
}


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema (draft 2020-12), recursively."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if not k.startswith("x-") and k not in ("example", "examples")}
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif {"$ref", "allOf", "oneOf", "anyOf"} & out.keys():
            inner = {k: out.pop(k) for k in list(out) if k in ("$ref", "allOf", "oneOf", "anyOf")}
            out["anyOf"] = [{"type": "null"}, inner]
    if out.get("format") in ("int64", "int32"):
        bound = 2**63 if out["format"] == "int64" else 2**31
        out.setdefault("minimum", -bound)
        out.setdefault("maximum", bound - 1)
    return out


@dataclass(frozen=True)
class _Param:
    name: str
    kind: str  # "integer", "number", "boolean", "string", "array"
    item_kind: str
    validator: Any
    required: bool
    #: The schema's default, filled in when the parameter is absent (as openapi-core does).
    default: Any = None


@dataclass(frozen=True)
class _OperationValidators:
    params: tuple[_Param, ...]
    body: Any  # a jsonschema_rs validator, or None
    body_required: bool
    responses: Mapping[str, Any]


class FastValidator:
    """Per-operation ``jsonschema_rs`` validators, compiled from the spec on an operation's first request.

    Compiling all of them up front took 25-30 ms per profile, a sixth of a start-up for
    the two, though a test touches a few operations and a tenant one profile. The first
    operation of a profile also builds the schema registry (about 7 ms); later ones take
    0.1-0.5 ms. :meth:`compile_all` does it all ahead (``serve`` calls it on its warm-up
    thread, and ``MockServer`` at once for a document of the caller's own).
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._document: dict[str, Any] | None = None
        self._registry: Any = None
        self._ops: dict[str, _OperationValidators] = {}

    @property
    def compiled(self) -> frozenset[str]:
        """The operations whose validators are compiled so far."""
        return frozenset(self._ops)

    def compile_all(self) -> None:
        """Compile every operation's validators now."""
        for op_id in self.spec.operations:
            self._for(op_id)

    def _for(self, op_id: str) -> _OperationValidators:
        validators = self._ops.get(op_id)
        if validators is None:
            with self._lock:
                validators = self._ops.get(op_id)
                if validators is None:
                    if self._document is None:
                        self._document = to_json_schema(copy.deepcopy(self.spec.document))
                        self._registry = jsonschema_rs.Registry([(_BASE, self._document)])
                    validators = self._ops[op_id] = self._compile(op_id, self._document)
        return validators

    def _validator(self, pointer: str) -> Any:
        return jsonschema_rs.validator_for(
            {"$ref": f"{_BASE}#{quote(pointer, safe='/~')}"},
            registry=self._registry,
            formats=FORMATS,
            validate_formats=True,
            ignore_unknown_formats=True,
        )

    def _compile(self, op_id: str, document: dict[str, Any]) -> _OperationValidators:
        op = self.spec.operations[op_id]
        path_item = self.spec.document["paths"][op.path]
        node = path_item[op.method.lower()]
        params = []
        for raw in (*path_item.get("parameters", []), *node.get("parameters", [])):
            param = self.spec.resolve(raw)
            if param.get("in") != "query":
                continue
            schema = self.spec.resolve(param.get("schema", {}))
            kind = schema.get("type", "string")
            item_kind = self.spec.resolve(schema.get("items", {})).get("type", "string")
            pointer = _pointer_of(self.spec, raw, ("schema",))
            params.append(
                _Param(
                    param["name"], kind, item_kind, self._validator(pointer), bool(param.get("required")),
                    schema.get("default"),
                )
            )  # fmt: skip
        body, body_required = None, False
        request_body = self.spec.resolve(node.get("requestBody"))
        if request_body:
            body_required = bool(request_body.get("required"))
            escaped = op.path.replace("~", "~0").replace("/", "~1")
            pointer = f"/paths/{escaped}/{op.method.lower()}/requestBody"
            if "$ref" in node["requestBody"]:
                pointer = node["requestBody"]["$ref"].lstrip("#")
            body = self._validator(f"{pointer}/content/application~1json/schema")
        responses: dict[str, Any] = {}
        escaped = op.path.replace("~", "~0").replace("/", "~1")
        for status, response in node.get("responses", {}).items():
            resolved = self.spec.resolve(response)
            pointer = f"/paths/{escaped}/{op.method.lower()}/responses/{status}"
            if "$ref" in response:
                pointer = response["$ref"].lstrip("#")
            content = resolved.get("content", {})
            if "application/json" in content:
                responses[status] = self._validator(f"{pointer}/content/application~1json/schema")
            else:
                responses[status] = None
        return _OperationValidators(tuple(params), body, body_required, responses)

    def parse_request(
        self, op_id: str, query: MultiDict[str, str], body: bytes, content_type: str, has_body: bool
    ) -> ParsedRequest | None:
        """The parsed request if it is certainly valid, else ``None`` (ask openapi-core)."""
        validators = self._for(op_id)
        parsed = ParsedRequest()
        for param in validators.params:
            values = query.getlist(param.name)
            if not values:
                if param.required:
                    return None
                if param.default is not None:
                    parsed.query[param.name] = param.default
                continue
            if param.kind != "array":
                values = values[:1]  # openapi-core reads the first of repeated scalars
            if "" in values:
                return None  # openapi-core refuses empty values (no allowEmptyValue)
            value = _cast(param, values)
            if value is _INVALID or not param.validator.is_valid(value):
                return None
            parsed.query[param.name] = value
        if has_body:
            if not body.strip():
                parsed.body = {}
                return parsed if validators.body is None or validators.body.is_valid({}) else None
            if content_type != "application/json":
                return None
            # orjson: a tenth of the standard library's time. What it refuses (NaN, lone
            # surrogates, integers beyond 64 bits, other encodings than UTF-8) goes to the
            # authority, which reads JSON as DRF does.
            try:
                parsed.body = orjson.loads(body)
            except orjson.JSONDecodeError:
                return None
            if _has_float(parsed.body):
                # JSON Schema counts 1.0 as an integer, openapi-core does not: let it decide.
                return None
            if validators.body is not None and not validators.body.is_valid(parsed.body):
                return None
        return parsed

    def response_is_valid(self, op_id: str, status: int, body: bytes, content_type: str) -> bool:
        """True when the response certainly matches its documented schema (False: ask openapi-core)."""
        responses = self._for(op_id).responses
        key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
        if key is None:
            return False
        validator = responses[key]
        if validator is None:
            return not body or content_type != "application/json"
        if content_type != "application/json":
            return False
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False  # what orjson cannot read, openapi-core judges
        # With floats in the body, JSON Schema and openapi-core may disagree (1.0 as an
        # integer): no verdict, the caller asks openapi-core.
        return not _has_float(document) and bool(validator.is_valid(document))


_INVALID = object()


def _has_float(document: Any) -> bool:
    """Whether a parsed JSON document holds a float anywhere.

    >>> _has_float({"a": [1, {"b": 2.0}]}), _has_float({"a": [1, "2.0", True]})
    (True, False)
    """
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, float):
            return True
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def strict_constant(name: str) -> float:
    """DRF's strict JSON: ``NaN`` and ``Infinity`` are a parse error, with DRF's words."""
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _cast(param: _Param, values: list[str]) -> Any:
    """openapi-core's casting of query strings: ints, numbers, booleans, repeated arrays."""
    if param.kind == "array":
        items = [_cast_one(param.item_kind, v) for v in values]
        return _INVALID if any(i is _INVALID for i in items) else items
    return _cast_one(param.kind, values[0])


def _cast_one(kind: str, value: str) -> Any:
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return _INVALID
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return _INVALID
    if kind == "boolean":
        lowered = value.lower()
        return {"true": True, "false": False}.get(lowered, _INVALID)
    return value


def _pointer_of(spec: Spec, raw: Any, suffix: tuple[str, ...]) -> str:
    """JSON pointer (into the converted document) of a parameter's sub-node."""
    if isinstance(raw, dict) and "$ref" in raw:
        ref: str = raw["$ref"]
        return ref.lstrip("#") + "".join(f"/{part}" for part in suffix)
    raise ValueError("inline query parameters are not supported; put them in components/parameters")
