"""PostHog's own published OpenAPI document, run against the fake with schemathesis.

The document (the batch-exports part of PostHog's generated client, November 2025) is
read as data from ``../shared/reference/`` beside the repository; without it the test
skips. It is older than the API docs and wrong in places. Each known inaccuracy is
listed below by name, with why it is the document's error and not the fake's, and
excluded on its own; any other failure is a bug of the fake.

Every operation gets a fresh fake with one project holding an export (with runs, a
backfill and a finished file download), and the path values the document types as bare
strings or random UUIDs are filled with those real ids, so that generated requests reach
the handlers instead of stopping at 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import Api

from mockserver import MockServer

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.core.parameters import ParameterLocation  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT.parent / "shared" / "reference" / "posthog-openapi-batch-exports-2025-11.yaml"
HOUR = 3600
#: Generated requests per operation: the whole run stays under a minute on two cores.
EXAMPLES = 15

if not PUBLISHED.exists():
    pytest.skip(
        f"PostHog's published OpenAPI document is not at {PUBLISHED.relative_to(ROOT.parent)} "
        "(it is read from a folder beside the repository)",
        allow_module_level=True,
    )


Document = dict[str, Any]


@dataclass(frozen=True)
class Inaccuracy:
    """A known error of the published document, corrected in a copy of it before the run.

    Correcting the document (rather than switching a check off) keeps every other check
    running on the operations concerned; ``skip_checks`` names the checks a correction
    cannot express, and ``skip_operation`` drops an operation PostHog no longer has.
    """

    name: str
    reason: str
    #: Canonical operation ids (no ``environments_`` prefix, no ``_2`` suffix); empty: all.
    operations: frozenset[str] = frozenset()
    correct: Callable[[Document, Document], None] | None = None
    skip_checks: tuple[str, ...] = ()
    skip_operation: bool = False


def _error_responses(_doc: Document, op: Document) -> None:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/PostHogError"}}}
    op["responses"].setdefault("4XX", {"description": "PostHog's error body", "content": content})


def _no_body(_doc: Document, op: Document) -> None:
    op.pop("requestBody", None)


def _backfill_body(_doc: Document, op: Document) -> None:
    nullable_string = {"type": "string", "nullable": True}
    schema = {"type": "object", "properties": {"start_at": nullable_string, "end_at": nullable_string}}
    op["requestBody"] = {"required": False, "content": {"application/json": {"schema": schema}}}


def _unpause_body(_doc: Document, op: Document) -> None:
    op["requestBody"] = {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}}


def _backfill_created(_doc: Document, op: Document) -> None:
    op["responses"]["201"]["content"]["application/json"]["schema"] = {
        "type": "object",
        "required": ["backfill_id"],
        "properties": {"backfill_id": {"type": "string", "format": "uuid"}},
    }


def _retry_created(_doc: Document, op: Document) -> None:
    body = {"type": "object", "required": ["backfill_id"], "properties": {"backfill_id": {"type": "string"}}}
    op["responses"].pop("200", None)
    op["responses"]["201"] = {"description": "Created", "content": {"application/json": {"schema": body}}}


def _progress_object(doc: Document, _op: Document) -> None:
    number = {"type": "number", "nullable": True}
    integer = {"type": "integer", "nullable": True}
    doc["components"]["schemas"]["BatchExportBackfill"]["properties"]["progress"] = {
        "type": "object",
        "nullable": True,
        "readOnly": True,
        "properties": {"total_runs": integer, "finished_runs": integer, "progress": number},
    }


def _current_destinations(doc: Document, _op: Document) -> None:
    doc["components"]["schemas"]["BatchExportDestinationTypeEnum"]["enum"] = [
        "S3", "AwsS3", "S3Compatible", "Snowflake", "Postgres", "Redshift", "BigQuery", "Databricks",
        "AzureBlob", "Workflows", "HTTP", "NoOp", "FileDownload",
    ]  # fmt: skip


def _test_destination(_doc: Document, op: Document) -> None:
    op.setdefault("parameters", []).append(
        {"in": "query", "name": "destination", "required": True, "schema": {"type": "string", "minLength": 1}}
    )
    op["responses"]["4XX"] = {"description": "An empty body"}


def _lenient_paging(_doc: Document, op: Document) -> None:
    for param in op.get("parameters", []):
        if param.get("in") == "query" and param["name"] in ("limit", "offset"):
            param["schema"] = {}


WRITES = frozenset(
    {
        "batch_exports_create",
        "batch_exports_update",
        "batch_exports_partial_update",
        "batch_exports_run_test_step_create",
        "batch_exports_run_test_step_new_create",
        "batch_exports_backfills_create",
    }
)

INACCURACIES = (
    Inaccuracy(
        "documents_only_success_statuses",
        "The document lists one success status per operation and none of the 4xx PostHog answers (DRF "
        "validation, authentication, scopes, lookups, throttling). Corrected: every operation may answer a "
        "4xx with PostHog's error body, which is then checked against that body's schema.",
        correct=_error_responses,
    ),
    Inaccuracy(
        "backfill_progress_typed_as_string",
        "`progress` is a SerializerMethodField returning {total_runs, finished_runs, progress} or null "
        "(products/batch_exports/backend/api/batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd); the "
        "generator typed it as a string.",
        operations=frozenset({"batch_exports_backfills_list", "batch_exports_backfills_retrieve"}),
        correct=_progress_object,
    ),
    Inaccuracy(
        "backfill_create_answers_a_backfill",
        'Backfill create answers 201 {"backfill_id": <uuid>} '
        "(batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd), not a BatchExportBackfill.",
        operations=frozenset({"batch_exports_backfills_create"}),
        correct=_backfill_created,
    ),
    Inaccuracy(
        "retry_answers_200",
        'Run retry answers 201 {"backfill_id": <workflow id>} '
        "(batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd); the document says "
        "200 with no body.",
        operations=frozenset({"batch_exports_runs_retry_create"}),
        correct=_retry_created,
    ),
    Inaccuracy(
        "actions_require_a_full_body",
        "Pause, run and backfill cancel and retry read no body "
        "(batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd); the document "
        "makes each require a whole serializer body.",
        operations=frozenset(
            {
                "batch_exports_pause_create",
                "batch_exports_runs_cancel_create",
                "batch_exports_runs_retry_create",
                "batch_exports_backfills_cancel_create",
            }
        ),
        correct=_no_body,
    ),
    Inaccuracy(
        "backfill_create_requires_a_backfill",
        "Backfill create reads only `start_at` and `end_at` (request.data.get, "
        "batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd); "
        "the document requires a whole BatchExportBackfill.",
        operations=frozenset({"batch_exports_backfills_create"}),
        correct=_backfill_body,
    ),
    Inaccuracy(
        "unpause_requires_a_full_body",
        'Unpause reads only an optional `backfill` (request.data.get("backfill", False), '
        "batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd); the document requires a whole BatchExport.",
        operations=frozenset({"batch_exports_unpause_create"}),
        correct=_unpause_body,
    ),
    Inaccuracy(
        "old_destination_enum",
        "The destination types are BatchExportDestination.Destination's 13 "
        "(products/batch_exports/backend/models/batch_export.py@c25410746c7e617b3cf91c6f7263b7030868475b); the "
        "document has an older 8.",
        correct=_current_destinations,
    ),
    Inaccuracy(
        "test_without_destination",
        "`GET …/test/` needs `?destination=` (400 with an empty body without it, 404 for a type with no "
        "steps) and the read scope (batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd); the document has no "
        "parameter and the "
        "scope INTERNAL.",
        operations=frozenset({"batch_exports_test_retrieve"}),
        correct=_test_destination,
    ),
    Inaccuracy(
        "lenient_pagination_parameters",
        "DRF's LimitOffsetPagination falls back to its defaults for a `limit`/`offset` that is not a "
        "positive integer instead of refusing it; the document types them as integers.",
        operations=frozenset({"batch_exports_list"}),
        correct=_lenient_paging,
    ),
    Inaccuracy(
        "validation_beyond_the_schema",
        "PostHog validates more than the document's schemas say: `name` may not be blank, "
        "`destination.config` keys depend on `type`, integrations must exist in the project, HogQL must "
        "parse, offsets depend on the interval, backfill dates on the export's interval, test steps on the "
        "destination type. A schema-valid request is often a 400 there too.",
        operations=WRITES | frozenset({"batch_exports_test_retrieve"}),
        skip_checks=("positive_data_acceptance",),
    ),
    Inaccuracy(
        "cancel_depends_on_state",
        "A run or backfill that is not Starting or Running cannot be cancelled (400 `Cannot cancel a run "
        "that is in 'Cancelled' status`, batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd); the document "
        "cannot say so, and a "
        "second cancel of the same run is a valid request PostHog refuses.",
        operations=frozenset({"batch_exports_runs_cancel_create", "batch_exports_backfills_cancel_create"}),
        skip_checks=("positive_data_acceptance",),
    ),
    Inaccuracy(
        "removed_backfill_action",
        "`POST …/batch_exports/{id}/backfill/` is the deprecated action of the older API; "
        "batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd no longer routes it (404 `Endpoint not found.`).",
        operations=frozenset({"batch_exports_backfill_create"}),
        skip_operation=True,
    ),
)

POSTHOG_ERROR = {
    "type": "object",
    "required": ["type", "code", "detail", "attr"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "attr": {"type": "string", "nullable": True},
    },
}


def canonical(operation_id: str) -> str:
    name = operation_id.removeprefix("environments_")
    return name[:-2] if name.endswith("_2") else name


def applies(inaccuracy: Inaccuracy, operation_id: str) -> bool:
    return not inaccuracy.operations or canonical(operation_id) in inaccuracy.operations


def corrected_document() -> Document:
    """The published document with every listed inaccuracy corrected (skipped operations removed)."""
    document: Document = yaml.safe_load(PUBLISHED.read_text())
    document["components"]["schemas"]["PostHogError"] = POSTHOG_ERROR
    for path, item in list(document["paths"].items()):
        for method, op in list(item.items()):
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            for inaccuracy in INACCURACIES:
                if not applies(inaccuracy, op["operationId"]):
                    continue
                if inaccuracy.skip_operation:
                    del item[method]
                    break
                if inaccuracy.correct is not None:
                    inaccuracy.correct(document, op)
        if not any(isinstance(op, dict) and "operationId" in op for op in item.values()):
            del document["paths"][path]
    return document


def skipped_checks(operation_id: str) -> list[Any]:
    names = {c for i in INACCURACIES if applies(i, operation_id) for c in i.skip_checks}
    return [getattr(schemathesis.checks, name) for name in sorted(names)]


#: One fake for the module (schemathesis sends its own probes to ``schema.app``), reset
#: before every operation.
SERVER = MockServer(strict=True)  # its own spec is checked too: a mismatch is a 500
schema = schemathesis.openapi.from_dict(corrected_document())
schema.app = SERVER
schema.config.update(base_url="http://localhost")
#: ``/api/environments/{id}/`` is an alias of ``/api/projects/{id}/`` (the same operations and
#: handlers), so its copies are left out to keep the run short.
schema = schema.exclude(path_regex="^/api/environments/")
#: The document's examples and generated requests; the coverage phase (every boundary value
#: of every schema, several hundred requests an operation) is left to the contract suite.
schema.config.phases.update(phases=["examples", "fuzzing"])


@dataclass
class World:
    server: MockServer
    api: Api
    ids: dict[str, str]


@pytest.fixture
def world() -> Iterator[World]:
    server = SERVER
    server.store.reset()
    server.errors.clear()
    tenant = server.store.create_tenant(
        feature_flags=["high-frequency-batch-exports", "batch-export-earliest-backfill"]
    )
    api = Api(server, tenant)
    export = api.create_export(interval="hour")
    assert api.post("/_mock/clock/advance/", json={"seconds": 3 * HOUR}).status_code == 200
    runs = api.get(f"/batch_exports/{export['id']}/runs/").json["results"]
    backfill = api.post(
        f"/batch_exports/{export['id']}/backfills/",
        json={"start_at": "2020-01-01T00:00:00Z", "end_at": "2020-01-01T02:00:00Z"},
    ).json
    ids = {
        "project_id": str(tenant.project_id),
        "organization_id": tenant.organization_id,
        "export": export["id"],
        "run": runs[0]["id"],
        "backfill": backfill["backfill_id"],
    }
    yield World(server, api, ids)


def fill_path(case: Any, ids: dict[str, str]) -> None:
    """Real ids for the path values: the project, the export, its run or backfill."""
    params = dict(case.path_parameters or {})
    path = case.path
    for name in params:
        if name in ("project_id", "organization_id"):
            params[name] = ids[name]
        elif name == "batch_export_id":
            params[name] = ids["export"]
        elif name == "id":
            if "/runs/{id}" in path:
                params[name] = ids["run"]
            elif "/backfills/{id}" in path:
                params[name] = ids["backfill"]
            else:
                params[name] = ids["export"]
    case.path_parameters = params


def is_negative(case: Any, location: str) -> bool:
    meta = getattr(case, "_meta", None)
    return meta is not None and meta.is_negative_at(ParameterLocation(location))


@schema.parametrize()  # type: ignore[untyped-decorator]  # schemathesis ships no type hints (see pyproject)
@settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
def test_the_fake_answers_as_posthogs_published_document_says(case: Any, world: World) -> None:
    if not is_negative(case, "path"):
        fill_path(case, world.ids)  # a deliberately broken path value stays broken
    headers = {} if is_negative(case, "header") else {"Authorization": f"Bearer {world.api.tenant.api_key}"}
    case.call_and_validate(
        headers=headers, excluded_checks=skipped_checks(case.operation.definition.raw["operationId"])
    )
    assert world.server.errors == []


def test_every_inaccuracy_names_operations_the_document_has() -> None:
    document = yaml.safe_load(PUBLISHED.read_text())
    names = {canonical(op["operationId"]) for item in document["paths"].values() for op in item.values()}
    for inaccuracy in INACCURACIES:
        assert inaccuracy.operations <= names, inaccuracy.name
        assert inaccuracy.correct or inaccuracy.skip_checks or inaccuracy.skip_operation, inaccuracy.name
