"""Form and multipart bodies read the way Django REST framework's parsers and fields read them.

PostHog keeps DRF's default parsers (JSON, ``application/x-www-form-urlencoded`` and
``multipart/form-data``; ``posthog/settings/web.py@000798bf8784a9d3d2ba4f133c3486d0cc0a1669``
sets no ``DEFAULT_PARSER_CLASSES``), so ``PATCH name=x`` works there as it does with JSON.
A form is a flat list of ``key=value`` strings; each DRF field decides how to read its
key, and :func:`form_to_data` does the same from the field's schema in the spec:

* **scalars** take the last value of their key. An integer field parses ``"3"`` (and
  ``"3.0"``), a boolean field DRF's words (``true``/``on``/``1``, ``false``/``off``/``0``…);
  whatever does not parse stays a string, so validation answers with DRF's message
  (``A valid integer is required.``). An empty value is null for a nullable field and
  "not sent" for an optional one. Outside a PATCH an absent boolean is ``false``: DRF's
  ``BooleanField`` reads a form without the key as unchecked.
* **nested serializers** (``destination``, ``file``) read dotted keys
  (``destination.type=NoOp``); a plain ``destination=…`` key is not read at all, so the
  field is missing, as on PostHog.
* **JSON fields** (``config``, ``filters``) read their value as a JSON document; one that
  does not parse is ``Value must be valid JSON.``
* **lists of strings** (``include``) read repeated keys or ``include[0]``, ``include[1]``.
* **keys the schema does not type** (unpause's ``backfill``) and unknown keys keep the raw
  string, as ``request.data.get(…)`` returns it: ``backfill=false`` is the string
  ``"false"``, which starts a backfill just as it does on PostHog.

A file part is never a valid value: it fails the field's type check (a JSON field: not
valid JSON). The result is a JSON-able dict plus the errors found while reading it;
validation then proceeds as for a JSON body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from mockserver.errors import APIError, ValidationError

__all__ = ["FORM_MEDIA_TYPES", "FormData", "form_to_data"]

#: The media types DRF's ``FormParser`` and ``MultiPartParser`` read.
FORM_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

# rest_framework/fields.py: BooleanField.TRUE_VALUES / FALSE_VALUES / NULL_VALUES.
_TRUE = frozenset({"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"})
_FALSE = frozenset({"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0"})
_NULL = frozenset({"null", "Null", "NULL", ""})
# rest_framework/fields.py: IntegerField.re_decimal.
_DECIMAL_TAIL = re.compile(r"\.0*\s*$")
_INDEXED = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<index>[0-9]+)\]$")

#: What a file part becomes: no field type accepts an object where it wants a scalar.
_FILE = {"file": "uploaded file"}

Resolve = Callable[[Any], Any]


@dataclass
class FormData:
    """A form read field by field: the values, and the errors reading found (by top-level field)."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, APIError] = field(default_factory=dict)


def form_to_data(
    fields: MultiDict[str, str],
    files: MultiDict[str, Any],
    schema: Any,
    resolve: Resolve,
    *,
    partial: bool,
) -> FormData:
    """Read a parsed form (``fields``, ``files``) as the serializer of ``schema`` would.

    >>> from werkzeug.datastructures import MultiDict
    >>> schema = {"properties": {"name": {"type": "string"}, "paused": {"type": "boolean"},
    ...           "offset_day": {"type": "integer", "nullable": True}}}
    >>> form_to_data(MultiDict([("name", "x"), ("offset_day", "3")]), MultiDict(), schema,
    ...              lambda node: node, partial=False).data
    {'name': 'x', 'paused': False, 'offset_day': 3}
    """
    # A part without a name (``name=""``) names no field: DRF's parsers drop it too.
    values: MultiDict[str, Any] = MultiDict((key, value) for key, value in fields.items(multi=True) if key)
    for key, upload in files.items(multi=True):
        if key:
            values.add(key, _FILE if upload is not None else "")
    out = FormData()
    properties = _properties(schema, resolve)
    required = _required(schema, resolve)
    for name, prop in properties.items():
        try:
            value = _read(
                values, name, resolve(prop), resolve, partial=partial, required=name in required, path=(name,)
            )
        except ValidationError as error:
            out.errors[name] = error
            continue
        if value is not _ABSENT:
            out.data[name] = value
    for key in values:
        if key not in properties and "." not in key and "[" not in key:
            out.data[key] = _last(values, key)  # read by hand (``personal_api_key``) or ignored
    return out


class _Absent:
    """The key is not in the form: the field is "not sent"."""


_ABSENT = _Absent()


def _properties(schema: Any, resolve: Resolve) -> dict[str, Any]:
    schema = resolve(schema) or {}
    props: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        props.update(_properties(part, resolve))
    props.update(schema.get("properties", {}))
    return props


def _required(schema: Any, resolve: Resolve) -> frozenset[str]:
    schema = resolve(schema) or {}
    names = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        names |= _required(part, resolve)
    return frozenset(names)


def _kind(schema: dict[str, Any]) -> str:
    drf_field = schema.get("x-drf-field")
    if drf_field in ("nested", "json"):
        return str(drf_field)
    kind = schema.get("type")
    if kind == "object" or "allOf" in schema:
        return "nested" if schema.get("properties") or "allOf" in schema else "json"
    if kind == "array":
        return "list"
    if kind in ("string", "integer", "number", "boolean"):
        return str(kind)
    return "raw"


def _last(values: MultiDict[str, Any], key: str) -> Any:
    """A QueryDict's ``[key]``: the last value sent."""
    value: str = values.getlist(key)[-1]
    return value


def _read(
    values: MultiDict[str, Any], name: str, schema: dict[str, Any], resolve: Resolve, *, partial: bool,
    required: bool, path: tuple[str, ...],
) -> Any:  # fmt: skip
    kind = _kind(schema)
    if kind == "nested":
        prefix = name + "."
        sub: MultiDict[str, Any] = MultiDict(
            (key[len(prefix) :], value) for key, value in values.items(multi=True) if key.startswith(prefix)
        )
        if not sub:
            return _ABSENT
        nested: dict[str, Any] = {}
        required_children = _required(schema, resolve)
        for child, prop in _properties(schema, resolve).items():
            value = _read(
                sub, child, resolve(prop), resolve, partial=partial, required=child in required_children,
                path=(*path, child),
            )  # fmt: skip
            if value is not _ABSENT:
                nested[child] = value
        return nested
    if kind == "list":
        item_schema = resolve(schema.get("items", {}))
        raw = values.getlist(name)
        if not raw:
            indexed = sorted(
                (int(m["index"]), key) for key in values if (m := _INDEXED.match(key)) and m["name"] == name
            )
            raw = [_last(values, key) for _, key in indexed]
        if not raw:
            return _ABSENT
        return [_scalar(item, _kind(item_schema), item_schema) for item in raw]
    if name not in values:
        if kind == "boolean" and not partial:
            return False  # an unchecked checkbox: DRF's BooleanField.default_empty_html
        return _ABSENT
    value = _last(values, name)
    if kind == "json":
        if value is _FILE:
            raise ValidationError("Value must be valid JSON.", code="invalid", attr="__".join(path))
        try:
            return json.loads(value)
        except ValueError:
            raise ValidationError("Value must be valid JSON.", code="invalid", attr="__".join(path)) from None
    if value == "":
        # rest_framework/fields.py Field.get_value: an empty value is null for a nullable
        # field (blank for a string that may be blank), "not sent" for an optional one,
        # and given to the field as it is otherwise (``This field may not be blank.``).
        blank_ok = kind == "string" and not schema.get("minLength")
        if schema.get("nullable"):
            return "" if blank_ok and "enum" not in schema else None
        if not required:
            return "" if blank_ok else _ABSENT
        return ""
    return _scalar(value, kind, schema)


def _scalar(value: Any, kind: str, schema: dict[str, Any]) -> Any:
    if not isinstance(value, str):
        return value  # a file part: the type check refuses it
    if kind == "integer":
        try:
            return int(_DECIMAL_TAIL.sub("", value))
        except ValueError:
            return value
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean":
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if value in _NULL and schema.get("nullable"):
            return None
        return value
    return value
