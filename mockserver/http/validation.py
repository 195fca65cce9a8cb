"""Requests and responses checked against the spec with openapi-core.

:class:`SpecValidator` runs openapi-core's request unmarshaller and translates what it
finds into PostHog's errors, with Django REST framework's messages and codes:

=====================  ===============================================  ==============
JSON Schema failure    DRF message                                      code
=====================  ===============================================  ==============
``required``           ``This field is required.``                      required
``null`` not allowed   ``This field may not be null.``                  null
``minLength: 1``       ``This field may not be blank.``                 blank
``enum``               ``"x" is not a valid choice.``                   invalid_choice
``maximum``            ``Ensure this value is less than or equal to N.`` max_value
``type: integer``      ``A valid integer is required.``                 invalid
=====================  ===============================================  ==============

Body errors come back grouped by top-level field (the domain decides which field is
reported first, as DRF does). A schema may carry ``x-drf-field`` (``nested``,
``primary_key``) to pick the message DRF's field class would give.

In strict mode :meth:`SpecValidator.check_response` validates every response and raises
:class:`ResponseContractError` on the first mismatch.
"""

from __future__ import annotations

import difflib
import json
import threading
import weakref
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.validation.request.exceptions import (
    InvalidRequestBody,
    MissingRequiredParameter,
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers, ImmutableMultiDict, MultiDict

from mockserver.domain.dates import DATETIME_FORMAT_ERROR, parse_datetime
from mockserver.errors import APIError, ParseError, UnsupportedMediaType, ValidationError
from mockserver.http.fastpath import strict_constant
from mockserver.http.parsed import ParsedRequest, ResponseContractError
from mockserver.http.spec import Operation, Spec

__all__ = ["ParsedRequest", "ResponseContractError", "SpecValidator"]


class _OpenAPIRequest:
    """openapi-core's request protocol over plain values (no framework object needed)."""

    def __init__(
        self, method: str, path: str, query: MultiDict[str, str], headers: Headers, body: bytes, ctype: str
    ) -> None:
        self.host_url = "http://fake"
        self.path = path
        self.method = method.lower()
        self.body = body
        self.content_type = ctype
        self.parameters = RequestParameters(query=query, header=headers, cookie=ImmutableMultiDict(), path={})


class _OpenAPIResponse:
    def __init__(self, status: int, body: bytes, ctype: str, headers: Mapping[str, str]) -> None:
        self.status_code = status
        self.data = body
        self.content_type = ctype
        self.headers = Headers(dict(headers))


def _drf_datetime(value: Any) -> bool:
    return not isinstance(value, str) or parse_datetime(value) is not None


#: One openapi-core object per parsed spec: building one validates the whole document,
#: which costs a tenth of a second, and the object is read-only afterwards.
_OPENAPI: weakref.WeakKeyDictionary[Spec, OpenAPI] = weakref.WeakKeyDictionary()
_OPENAPI_LOCK = threading.Lock()


def _openapi_for(spec: Spec) -> OpenAPI:
    with _OPENAPI_LOCK:
        openapi = _OPENAPI.get(spec)
        if openapi is None:
            # DRF reads datetimes with Django's parser (naive = UTC, date-only allowed), which
            # is laxer than RFC 3339's date-time; the format check follows DRF.
            config = Config(extra_format_validators={"date-time": _drf_datetime})
            openapi = _OPENAPI[spec] = OpenAPI.from_dict(_without_security(spec.document), config=config)
        return openapi


def _without_security(document: dict[str, Any]) -> dict[str, Any]:
    """The document without security requirements: :mod:`mockserver.http.auth` checks keys.

    openapi-core checks security before the body and stops there, so a request that
    authenticates with ``personal_api_key`` in its body (no ``Authorization`` header)
    would otherwise have its body errors go unreported.
    """
    stripped = {**document, "paths": {}}
    stripped.pop("security", None)
    for path, item in document.get("paths", {}).items():
        stripped["paths"][path] = {
            method: ({k: v for k, v in node.items() if k != "security"} if isinstance(node, dict) else node)
            for method, node in item.items()
        }
    return stripped


class SpecValidator:
    """openapi-core, configured once per spec, plus the DRF translation."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.openapi = _openapi_for(spec)
        self._field_ranks: dict[str, dict[tuple[str, ...], int]] = {}

    # -- requests --------------------------------------------------------------------

    def parse_request(
        self,
        op: Operation,
        *,
        path: str,
        query: MultiDict[str, str],
        headers: Headers,
        body: bytes,
        content_type: str,
    ) -> ParsedRequest:
        parsed = ParsedRequest()
        if op.has_body and not body.strip():
            body, content_type = b"{}", "application/json"  # DRF reads an empty body as {}
        if not path.endswith("/"):
            path += "/"
        oreq = _OpenAPIRequest(op.method, path, query, headers, body, content_type or "application/json")
        result = self.openapi.unmarshal_request(oreq)
        parsed.path_params = dict(result.parameters.path or {})
        # Handlers read strings: openapi-core turns format: date-time values into datetimes.
        parsed.query = {
            name: (query.get(name) if isinstance(value, datetime) else value)
            for name, value in (result.parameters.query or {}).items()
        }
        if op.has_body:
            try:
                # UTF-8 only, as DRF reads a body whose Content-Type names no charset: one in
                # another charset was turned into UTF-8 first if it named one. A BOM is refused
                # as DRF's json.load refuses it (only charset=utf-8-sig strips it).
                parsed.body = (
                    json.loads(body.decode("utf-8"), parse_constant=strict_constant)
                    if content_type.startswith("application/json") or not content_type
                    else None
                )
            except ValueError as exc:
                parsed.body_error = ParseError(f"JSON parse error - {exc}")
        for error in result.errors:
            self._translate(op, error, parsed)
        return parsed

    def _translate(self, op: Operation, error: Exception, parsed: ParsedRequest) -> None:
        if isinstance(error, (ParameterValidationError, MissingRequiredParameter)):
            name, location = error.name, error.location
            if location != "query" or name in op.lenient_params:
                return  # path values are checked where they are looked up (404s)
            if parsed.query_error is None:
                parsed.query_error = self._param_error(name, error)
            return
        if isinstance(error, InvalidRequestBody) and isinstance(error.__cause__, InvalidSchemaValue):
            self._body_errors(op, list(error.__cause__.schema_errors), parsed)
            return
        if isinstance(error, RequestBodyValidationError):
            cause = error.__cause__
            if isinstance(cause, MediaTypeNotFound):
                parsed.body_error = UnsupportedMediaType(f'Unsupported media type "{cause.mimetype}" in request.')
            elif parsed.body_error is None:
                parsed.body_error = ParseError("JSON parse error - could not decode the request body")

    def _param_error(self, name: str, error: Exception) -> APIError:
        cause = error.__cause__
        if isinstance(cause, CastError):
            return ValidationError("A valid integer is required.", code="invalid", attr=name)
        schema_errors = list(getattr(cause, "schema_errors", None) or [])
        if schema_errors:
            se = schema_errors[0]
            path = [name, *(str(p) for p in se.absolute_path)]
            return _drf_error(se, "__".join(path))
        return ValidationError("This field is required.", code="required", attr=name)

    def _body_errors(self, op: Operation, schema_errors: list[Any], parsed: ParsedRequest) -> None:
        candidates: list[tuple[tuple[str, ...], APIError]] = []
        for se in schema_errors:
            base = tuple(str(p) for p in se.absolute_path)
            if se.validator == "required":
                for missing in se.validator_value:
                    if isinstance(se.instance, dict) and missing not in se.instance:
                        candidates.append(
                            (
                                (*base, missing),
                                ValidationError(
                                    "This field is required.", code="required", attr="__".join((*base, missing))
                                ),
                            )
                        )
                continue
            if se.validator == "additionalProperties" and isinstance(se.instance, dict):
                # Only the fake's own (control-plane) bodies refuse unknown keys; PostHog's
                # serializers ignore them. The error names the unexpected key itself.
                known = se.schema.get("properties", {}) if isinstance(se.schema, dict) else {}
                for extra in (k for k in se.instance if k not in known):
                    path = (*base, str(extra))
                    close = difflib.get_close_matches(str(extra), sorted(known), n=1, cutoff=0.6)
                    if close:
                        detail = f'Unknown field. Did you mean "{close[0]}"?'
                    else:
                        detail = f"Unknown field (known: {', '.join(known)})." if known else "Unknown field."
                    candidates.append((path, ValidationError(detail, code="unknown_field", attr="__".join(path))))
                continue
            candidates.append((base, _drf_error(se, "__".join(base) or None)))
        ranks = self._ranks(op)
        candidates.sort(key=lambda c: (_path_rank(c[0], ranks), _PRIORITY.get(c[1].code, 9)))
        for path, err in candidates:
            if not path:
                # The body itself has the wrong type (DRF: "Invalid data. Expected a dictionary…").
                parsed.body_error = parsed.body_error or ValidationError(
                    f"Invalid data. Expected a dictionary, but got {type(parsed.body).__name__}.", code="invalid"
                )
                continue
            parsed.field_errors.setdefault(path[0], err)

    def _ranks(self, op: Operation) -> dict[tuple[str, ...], int]:
        """Position of every (nested) property in the body schema: DRF validates in this order."""
        ranks = self._field_ranks.get(op.operation_id)
        if ranks is None:
            ranks = {}
            schema = self.spec.request_schema(op.operation_id) or {}

            def walk(node: Any, prefix: tuple[str, ...], depth: int) -> None:
                node = self.spec.resolve(node)
                for sub in node.get("allOf", []):
                    walk(sub, prefix, depth)
                for i, (key, sub) in enumerate(node.get("properties", {}).items()):
                    ranks[(*prefix, key)] = i
                    if depth < 3:
                        walk(sub, (*prefix, key), depth + 1)

            walk(schema, (), 0)
            self._field_ranks[op.operation_id] = ranks
        return ranks

    # -- responses -------------------------------------------------------------------

    def check_response(
        self,
        op: Operation,
        *,
        path: str,
        query: MultiDict[str, str],
        headers: Headers,
        status: int,
        body: bytes,
        content_type: str,
        response_headers: Mapping[str, str],
    ) -> None:
        """Raise :class:`ResponseContractError` unless the response matches the spec."""
        if not path.endswith("/"):
            path += "/"
        oreq = _OpenAPIRequest(op.method, path, query, headers, b"", "application/json")
        oresp = _OpenAPIResponse(status, body, content_type, response_headers)
        errors = list(self.openapi.unmarshal_response(oreq, oresp).errors)
        if errors:
            details = "; ".join(_describe(e) for e in errors)
            raise ResponseContractError(
                f"{op.operation_id} answered {status} with a body its spec does not allow: {details}\n{body[:2000]!r}"
            )


_PRIORITY = {"null": 0, "required": 1, "invalid_choice": 2, "incorrect_type": 3, "invalid": 4, "blank": 5}


def _path_rank(path: tuple[str, ...], ranks: dict[tuple[str, ...], int]) -> tuple[int, ...]:
    return tuple(ranks.get(path[: i + 1], 999) for i in range(len(path)))


def _describe(error: Exception) -> str:
    schema_errors = getattr(error.__cause__, "schema_errors", None)
    if schema_errors:
        return ", ".join(f"{'/'.join(map(str, se.absolute_path)) or '<root>'}: {se.message}" for se in schema_errors)
    return f"{type(error).__name__}: {error}"


_TYPE_MESSAGES = {
    "integer": ("A valid integer is required.", "invalid"),
    "number": ("A valid number is required.", "invalid"),
    "boolean": ("Must be a valid boolean.", "invalid"),
    "string": ("Not a valid string.", "invalid"),
}


def _drf_error(se: Any, attr: str | None) -> APIError:
    """The error DRF's field would raise for one JSON Schema failure."""
    value, schema, validator = se.instance, se.schema, se.validator
    drf_field = schema.get("x-drf-field") if isinstance(schema, dict) else None
    if value is None and validator in ("type", "enum", "nullable"):
        return ValidationError("This field may not be null.", code="null", attr=attr)
    if validator == "enum":
        shown = value if isinstance(value, str) else str(value)  # DRF formats the raw value with str()
        return ValidationError(f'"{shown}" is not a valid choice.', code="invalid_choice", attr=attr)
    if validator == "minLength" and value == "":
        return ValidationError("This field may not be blank.", code="blank", attr=attr)
    if validator == "maximum":
        return ValidationError(
            f"Ensure this value is less than or equal to {_num(se.validator_value)}.", code="max_value", attr=attr
        )
    if validator == "minimum":
        return ValidationError(
            f"Ensure this value is greater than or equal to {_num(se.validator_value)}.", code="min_value", attr=attr
        )
    if validator == "minItems" and se.validator_value == 1:
        return ValidationError("This list may not be empty.", code="empty", attr=attr)
    if validator == "maxItems":
        return ValidationError(
            f"Ensure this field has no more than {se.validator_value} elements.", code="max_length", attr=attr
        )
    if validator == "format":
        if se.validator_value == "uuid":
            return ValidationError("Must be a valid UUID.", code="invalid", attr=attr)
        return ValidationError(DATETIME_FORMAT_ERROR, code="invalid", attr=attr)
    if validator == "type":
        pytype = type(value).__name__
        if drf_field == "primary_key":
            return ValidationError(
                f"Incorrect type. Expected pk value, received {pytype}.", code="incorrect_type", attr=attr
            )
        expected = se.validator_value
        if expected == "object":
            if drf_field == "nested":
                return ValidationError(
                    f"Invalid data. Expected a dictionary, but got {pytype}.", code="invalid", attr=attr
                )
            return ValidationError(
                f'Expected a dictionary of items but got type "{pytype}".', code="not_a_dict", attr=attr
            )
        if expected == "array":
            return ValidationError(f'Expected a list of items but got type "{pytype}".', code="not_a_list", attr=attr)
        message, code = _TYPE_MESSAGES.get(expected, ("Invalid value.", "invalid"))
        return ValidationError(message, code=code, attr=attr)
    return ValidationError(str(se.message), code="invalid", attr=attr)


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
