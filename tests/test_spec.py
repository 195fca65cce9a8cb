"""The OpenAPI document is valid, complete, and is what the fake serves."""

from __future__ import annotations

import copy
import importlib

import jsonschema_rs
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from mockserver.http.app import MockServer
from mockserver.http.handlers import HANDLERS
from mockserver.http.spec import Spec, canonical_name, load_spec, spec_path


def test_the_document_is_valid_openapi() -> None:
    document, _ = read_from_filename(str(spec_path()))
    validate(document)


def test_every_operation_has_a_handler_and_every_handler_an_operation() -> None:
    spec = load_spec()
    canonical = {canonical_name(op_id) for op_id in spec.operations}
    assert canonical == set(HANDLERS)


def test_a_handler_name_declared_twice_is_an_error_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    import mockserver.http.handlers as handlers
    from mockserver.http.handlers import control, runs

    monkeypatch.setitem(control.HANDLERS, "batch_exports_runs_list", runs.HANDLERS["batch_exports_runs_list"])
    try:
        with pytest.raises(ValueError, match="handler 'batch_exports_runs_list' is declared twice"):
            importlib.reload(handlers)
    finally:
        monkeypatch.undo()
        importlib.reload(handlers)
    assert "batch_exports_runs_list" not in control.HANDLERS


def test_the_surface_is_postHogs_68_operations_plus_the_control_plane() -> None:
    ops = load_spec().operations.values()
    assert len([op for op in ops if op.level != "control"]) == 68
    assert {op.level for op in ops} == {"team", "organization", "control"}


def test_project_and_environment_routes_describe_the_same_operations() -> None:
    spec = load_spec()
    projects = {
        (op.method, op.path.removeprefix("/api/projects/{project_id}"), op.scope)
        for op in spec.operations.values()
        if op.path.startswith("/api/projects/")
    }
    environments = {
        (op.method, op.path.removeprefix("/api/environments/{project_id}"), op.scope)
        for op in spec.operations.values()
        if op.path.startswith("/api/environments/")
    }
    assert projects == environments


def test_every_postHog_operation_needs_exactly_one_batch_export_scope() -> None:
    for op in load_spec().operations.values():
        if op.level == "control":
            assert op.scope is None
        else:
            assert op.scope in ("batch_export:read", "batch_export:write"), op.operation_id


def test_the_packaged_document_is_the_one_in_spec() -> None:
    from pathlib import Path

    repo_copy = Path(__file__).parent.parent / "spec" / "openapi.yaml"
    assert spec_path().read_bytes() == repo_copy.read_bytes()


def test_two_fakes_share_the_parsed_spec_but_nothing_else() -> None:
    a, b = MockServer(), MockServer()
    assert a.spec is b.spec
    assert a.store is not b.store
    a.store.create_tenant()
    assert not b.store.organizations


def test_a_document_of_ones_own_is_compiled_when_the_server_is_built() -> None:
    """Operations compile on first use, except in a caller's document: its errors show at construction."""
    document = copy.deepcopy(load_spec().document)
    document["components"]["schemas"]["BatchExport"]["properties"]["name"]["pattern"] = "("
    spec = Spec(document)
    spec.profile = "docs"
    with pytest.raises(jsonschema_rs.ValidationError, match='is not a "regex"'):
        MockServer(spec=spec)
