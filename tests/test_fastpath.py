"""The fast validators agree with openapi-core, the authority, on what is valid.

Hypothesis draws requests from the spec's own schemas, half conforming and half broken
in every way a schema can be broken (missing keys, nulls, wrong types, out-of-range
numbers, unknown choices, malformed dates and uuids), and responses by mutating the
spec's examples. For each draw, ``FastValidator`` must say "valid" exactly when
openapi-core finds nothing wrong, and then parse the request the same way.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import Headers, MultiDict

from mockserver.http.fastpath import FastValidator
from mockserver.http.spec import load_spec
from mockserver.http.validation import SpecValidator, _OpenAPIRequest, _OpenAPIResponse

SPEC = load_spec()
FAST = FastValidator(SPEC)
SLOW = SpecValidator(SPEC)

BODY_OPS = sorted(op_id for op_id, op in SPEC.operations.items() if op.has_body)
QUERY_OPS = sorted(
    op_id
    for op_id, op in SPEC.operations.items()
    if any(SPEC.resolve(p).get("in") == "query" for p in SPEC.operation_node(op_id).get("parameters", []))
)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(["", "2026-01-05T10:00:00Z", "2026-01-05", "not-a-date", "6f25e2a2-5a92-4187-99c7-8df48f4ff31e"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def values(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for ``schema``: mostly conforming, sometimes junk."""
    schema = SPEC.resolve(schema)
    if depth > 3:
        return JUNK
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = SPEC.resolve(part)
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        schema = merged
    if "enum" in schema:
        good: st.SearchStrategy[Any] = st.sampled_from([v for v in schema["enum"]])
    elif schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        good = st.fixed_dictionaries(
            {k: values(v, depth + 1) for k, v in props.items() if k in required},
            optional={k: values(v, depth + 1) for k, v in props.items() if k not in required},
        )
    elif schema.get("type") == "integer":
        low, high = schema.get("minimum", -1000), schema.get("maximum", 10**6)
        good = st.integers(min_value=int(low) - 2, max_value=int(high) + 2)
    elif schema.get("type") == "array":
        good = st.lists(values(schema.get("items", {}), depth + 1), max_size=3)
    elif schema.get("type") == "boolean":
        good = st.booleans()
    elif schema.get("format") == "date-time":
        good = st.sampled_from(["2026-01-05T10:00:00Z", "2026-01-05T10:00:00", "2026-01-05", "05/01/2026"])
    elif schema.get("format") == "uuid":
        good = st.sampled_from(["6f25e2a2-5a92-4187-99c7-8df48f4ff31e", "6f25e2a25a92418799c78df48f4ff31e", "x"])
    else:
        good = st.text(max_size=5)
    return st.one_of(good, good, good, JUNK)


def slow_errors(op_id: str, query: MultiDict[str, str], body: bytes) -> list[Exception]:
    op = SPEC.operations[op_id]
    path = _with_uuids(op.path)
    request = _OpenAPIRequest(op.method, path, query, Headers({"Authorization": "Bearer k"}), body, "application/json")
    return list(SLOW.openapi.unmarshal_request(request).errors)


def _with_uuids(template: str) -> str:
    return (
        template.replace("{project_id}", "1")
        .replace("{organization_id}", "6f25e2a2-5a92-4187-99c7-8df48f4ff31e")
        .replace("{batch_export_id}", "6f25e2a2-5a92-4187-99c7-8df48f4ff31e")
        .replace("{id}", "6f25e2a2-5a92-4187-99c7-8df48f4ff31e")
        .replace("{part}", "0")
    )


def _holds_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_float(v) for v in value)
    return isinstance(value, float)


def check_agreement(op_id: str, query: MultiDict[str, str], body: bytes) -> None:
    op = SPEC.operations[op_id]
    fast = FAST.parse_request(op_id, query, body, "application/json", op.has_body)
    errors = slow_errors(op_id, query, body if body.strip() or not op.has_body else b"{}")
    if fast is None:
        # The cases the fast path leaves to openapi-core without a verdict: JSON floats,
        # because JSON Schema counts 1.0 as an integer and openapi-core does not, and what
        # orjson does not read (integers beyond 64 bits, lone surrogates, NaN).
        floats: list[str] = []
        json.loads(body or b"null", parse_float=floats.append)
        try:
            # orjson reads an integer beyond 64 bits as a float: declined like any float.
            unreadable = _holds_float(orjson.loads(body or b"null"))
        except orjson.JSONDecodeError:
            unreadable = True
        assert errors or floats or unreadable, "the fast path refused a request openapi-core accepts"
        return
    assert not errors, f"the fast path accepted a request openapi-core refuses: {errors}"
    headers = Headers({"Authorization": "Bearer k"})
    slow = SLOW.parse_request(
        op, path=_with_uuids(op.path), query=query, headers=headers, body=body, content_type="application/json"
    )
    assert (slow.query, slow.body) == (fast.query, fast.body)


@pytest.mark.parametrize("op_id", BODY_OPS)
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bodies_agree(op_id: str, data: st.DataObject) -> None:
    schema = SPEC.request_schema(op_id) or {}
    body = data.draw(st.one_of(values(schema), JUNK))
    check_agreement(op_id, MultiDict(), json.dumps(body).encode())


@pytest.mark.parametrize("op_id", QUERY_OPS)
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_query_parameters_agree(op_id: str, data: st.DataObject) -> None:
    query: MultiDict[str, str] = MultiDict()
    node = SPEC.operation_node(op_id)
    for raw in node.get("parameters", []):
        param = SPEC.resolve(raw)
        if param.get("in") != "query" or not data.draw(st.booleans()):
            continue
        schema = SPEC.resolve(param.get("schema", {}))
        items = SPEC.resolve(schema.get("items", {}))
        pool = [str(v) for v in schema.get("enum", []) + items.get("enum", [])]
        strings = st.one_of(
            st.sampled_from([*pool, "1", "0", "-3", "501", "abc", "true", "2026-01-05T10:00:00Z"]), st.text(max_size=4)
        )
        for value in data.draw(st.lists(strings, min_size=1, max_size=2)):
            query.add(param["name"], value)
    body = b"{}" if SPEC.operations[op_id].has_body else b""
    check_agreement(op_id, query, body)


def _examples() -> list[tuple[str, str, Any]]:
    found = []
    for op_id in SPEC.operations:
        for status, response in SPEC.operation_node(op_id).get("responses", {}).items():
            content = SPEC.resolve(response).get("content", {}).get("application/json", {})
            for example in content.get("examples", {}).values():
                found.append((op_id, status, SPEC.resolve(example)["value"]))
    return found


EXAMPLES = _examples()


def _mutations(value: Any) -> st.SearchStrategy[Any]:
    """The example itself, or one key dropped, nulled, retyped or added, at any depth."""

    def mutate(draw: st.DrawFn) -> Any:
        mutated = copy.deepcopy(value)
        node = mutated
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            if not isinstance(node[key], (dict, list)) or not node[key]:
                break
            node = node[key]
        action = draw(st.sampled_from(["none", "drop", "null", "retype", "add"]))
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if action == "drop":
                del node[key]
            elif action == "null":
                node[key] = None
            elif action == "retype":
                node[key] = draw(JUNK)
            elif action == "add":
                node["unexpected"] = 1
        return mutated

    return st.composite(mutate)()


@pytest.mark.parametrize(("op_id", "status", "example"), EXAMPLES[:: max(1, len(EXAMPLES) // 60)])
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_responses_agree(op_id: str, status: str, example: Any, data: st.DataObject) -> None:
    op = SPEC.operations[op_id]
    body = json.dumps(data.draw(_mutations(example))).encode()
    fast = FAST.response_is_valid(op_id, int(status), body, "application/json")
    request = _OpenAPIRequest(op.method, _with_uuids(op.path), MultiDict(), Headers(), b"", "application/json")
    slow = SLOW.openapi.unmarshal_response(request, _OpenAPIResponse(int(status), body, "application/json", {})).errors
    if fast:
        assert not slow, slow
    else:
        floats: list[str] = []
        json.loads(body, parse_float=floats.append)
        assert slow or floats, "the fast check refused a response openapi-core accepts"


def test_an_operation_is_compiled_on_its_first_request_and_warm_up_compiles_the_rest() -> None:
    """Start-up compiles nothing; ``serve``'s warm-up (``compile_all``) compiles every operation."""
    fast = FastValidator(SPEC)
    assert fast.compiled == frozenset()
    parsed = fast.parse_request("batch_exports_list", MultiDict({"limit": "2"}), b"", "", False)
    assert parsed is not None and parsed.query["limit"] == 2
    assert fast.compiled == {"batch_exports_list"}
    fast.compile_all()
    assert fast.compiled == set(SPEC.operations)


def test_threads_asking_for_one_operation_at_once_share_one_compilation() -> None:
    """Requests run on many threads; the first requests of an operation compile it once, all get an answer."""
    fast = FastValidator(SPEC)
    start = threading.Barrier(8)
    validators: list[object] = []

    def first_request() -> None:
        start.wait(timeout=10)
        validators.append(fast._for("batch_exports_list"))

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(validators) == 8 and all(v is validators[0] for v in validators)
    assert fast.compiled == {"batch_exports_list"}
