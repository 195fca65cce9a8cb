"""File downloads: PostHog's create rules, the status object, cancel, logs, and downloads
that follow the redirect and parse back into rows of the requested model."""

from __future__ import annotations

import gzip
import io
import json
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import Api, JsonResponse, call, error
from werkzeug.test import Client

from mockserver import MockServer
from mockserver.domain import datagen
from mockserver.domain.lifecycle import Outcome

# The fake's clock starts at 2026-01-05T12:00:00Z.
START, END = "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"
BASE = "/file_download_batch_exports/"


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "file": {"format": "JSONLines"},
        "model": "events",
        "data_interval_start": START,
        "data_interval_end": END,
        **overrides,
    }


def create(api: Api, **overrides: Any) -> str:
    response = api.post(BASE, json=body(**overrides))
    assert response.status_code == 202, response.json
    assert set(response.json) == {"id"}
    return str(response.json["id"])


def advance(api: Api, seconds: float) -> None:
    assert api.post("/_mock/clock/advance/", json={"seconds": seconds}).status_code == 200


def completed(api: Api, **overrides: Any) -> tuple[str, list[str]]:
    """Create a file download, let it complete, and return its run id and file ids."""
    run_id = create(api, **overrides)
    advance(api, 600)
    status = api.get(f"{BASE}{run_id}/").json
    assert status["status"] == "Completed", status
    return run_id, status["files"]


def fetch(api: Api, run_id: str, part: str | None = None) -> JsonResponse:
    """Ask for a download, check the redirect, then follow it by hand."""
    path = f"{BASE}{run_id}/download/" + (f"{part}/" if part is not None else "")
    redirect = api.get(path)
    assert redirect.status_code == 302, redirect.json
    assert redirect.headers["Cache-Control"] == "no-store"
    assert redirect.data == b""
    served = call(api.server, "GET", redirect.headers["Location"])  # no key, like a pre-signed URL
    assert served.status_code == 200
    return served


def parse(content: bytes, file_format: str, compression: str | None) -> list[dict[str, Any]]:
    """What a client does with a downloaded file: decompress, then read JSON Lines or Parquet."""
    if file_format == "Parquet":
        return list(pq.read_table(io.BytesIO(content)).to_pylist())
    if compression == "gzip":
        content = gzip.decompress(content)
    elif compression == "brotli":
        content = pa.CompressedInputStream(pa.BufferReader(content), "brotli").read()
    return [json.loads(line) for line in content.splitlines()]


def as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def run_of(server: MockServer, run_id: str) -> Any:
    return server.store.runs[run_id]


def bad(detail: str, code: str = "invalid_input", attr: str | None = None) -> dict[str, Any]:
    return error(code, detail, attr)


# -- create ----------------------------------------------------------------------------


def test_create_answers_202_with_the_run_id_and_the_run_starts(api: Api, server: MockServer) -> None:
    run_id = create(api)
    run = run_of(server, run_id)
    assert (run.status, run.batch_export_id) == ("Starting", None)
    export = server.store.on_demand_exports[run.batch_export_on_demand_id]
    assert export.destination.type == "FileDownload"
    assert export.destination.config == {"format": "JSONLines", "compression": None, "max_size_mb": None}
    assert api.get(f"{BASE}{run_id}/").json == {"status": "Starting"}
    advance(api, 30)
    assert api.get(f"{BASE}{run_id}/").json == {"status": "Running"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"data_interval_start": "2026-01-05T11:00:00Z", "data_interval_end": "2026-01-05T10:00:00Z"},
            bad("'data_interval_end' must occur after 'data_interval_start'"),
        ),
        (
            {"data_interval_start": "2025-12-29T10:00:00Z", "data_interval_end": "2026-01-05T10:00:01Z"},
            bad("data interval range too big"),
        ),
        (
            {"data_interval_end": "2026-01-05T13:00:00.250000+00:00"},
            bad("The provided 'data_interval_end' (2026-01-05T13:00:00.250000+00:00) is in the future"),
        ),
        (  # DRF reads the value into UTC: the message shows it that way
            {"data_interval_end": "2026-01-05T15:00:00+02:00"},
            bad("The provided 'data_interval_end' (2026-01-05T13:00:00+00:00) is in the future"),
        ),
        ({"file": None}, bad("This field may not be null.", "null", "file")),
        ({"model": "hogql"}, bad('"hogql" is not a valid choice.', "invalid_choice", "model")),
        ({"file": {"format": "CSV"}}, bad('"CSV" is not a valid choice.', "invalid_choice", "file__format")),
    ],
)
def test_create_rules_and_their_exact_messages(api: Api, overrides: dict[str, Any], expected: Any) -> None:
    response = api.post(BASE, json=body(**overrides))
    assert (response.status_code, response.json) == (400, expected)


def test_required_fields(api: Api) -> None:
    response = api.post(BASE, json={"model": "events"})
    assert (response.status_code, response.json) == (400, bad("This field is required.", "required", "file"))


def test_exactly_seven_days_ending_now_is_allowed(api: Api) -> None:
    create(api, data_interval_start="2025-12-29T12:00:00Z", data_interval_end="2026-01-05T12:00:00Z")


def test_too_many_concurrent_file_downloads_is_a_429_typed_server_error(api: Api, server: MockServer) -> None:
    server.store.limits.concurrent_file_downloads = 2
    create(api)
    create(api)
    response = api.post(BASE, json=body())
    assert (response.status_code, response.json) == (
        429,
        error(
            "too_many_concurrent_file_downloads",
            "Too many concurrent file download batch exports for this team.",
            type="server_error",
        ),
    )
    other = Api(server, server.store.create_tenant())  # the limit is per team
    create(other)
    advance(api, 600)  # both finished: room again
    create(api)


def test_include_and_exclude_are_kept_for_events_only(api: Api, server: MockServer) -> None:
    def config(run_id: str) -> dict[str, Any]:
        run = run_of(server, run_id)
        return dict(server.store.on_demand_exports[run.batch_export_on_demand_id].destination.config)

    events = create(api, include=["$pageview", "purchase"], exclude=["purchase"])
    persons = create(api, model="persons", include=["$pageview"], exclude=["x"])
    assert config(events)["include_events"] == ["$pageview", "purchase"]
    assert config(events)["exclude_events"] == ["purchase"]
    assert "include_events" not in config(persons) and "exclude_events" not in config(persons)
    advance(api, 600)
    rows = parse(fetch(api, events).data, "JSONLines", None)
    assert rows and {row["event"] for row in rows} == {"$pageview"}


def test_jsonlines_refuses_parquet_only_codecs_by_failing_the_run(api: Api) -> None:
    run_id = create(api, file={"format": "JSONLines", "compression": "zstd"})
    advance(api, 600)
    assert api.get(f"{BASE}{run_id}/").json == {
        "status": "Failed",
        "error": "UnsupportedCompressionError: Compression zstd is not supported for file format JSONLines. "
        "Supported compressions are ['gzip', 'brotli']",
    }


def test_without_pyarrow_parquet_and_brotli_are_a_clear_400(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datagen, "_pyarrow_available", lambda: False)
    parquet = api.post(BASE, json=body(file={"format": "Parquet"}))
    assert parquet.status_code == 400 and parquet.json["attr"] == "file__format"
    assert parquet.json["detail"].startswith("This fake cannot write Parquet files without pyarrow")
    brotli = api.post(BASE, json=body(file={"format": "JSONLines", "compression": "brotli"}))
    assert brotli.status_code == 400 and brotli.json["attr"] == "file__compression"
    create(api, file={"format": "JSONLines", "compression": "gzip"})


# -- list, retrieve, cancel, logs -------------------------------------------------------


def test_list_is_a_limit_offset_page_of_id_and_status_newest_first(api: Api, server: MockServer) -> None:
    first = create(api)
    advance(api, 600)
    second = create(api)
    third = create(api)  # same instant as the second: the later create is listed first
    Api(server, server.store.create_tenant()).post(BASE, json=body())  # another team's
    page = api.get(BASE, query_string={"limit": 2}).json
    assert page["count"] == 3
    assert page["results"] == [{"id": third, "status": "Starting"}, {"id": second, "status": "Starting"}]
    assert page["next"] == f"http://localhost/api/projects/{api.tenant.project_id}{BASE}?limit=2&offset=2"
    rest = api.get(BASE, query_string={"limit": 2, "offset": 2}).json
    assert rest["results"] == [{"id": first, "status": "Completed"}]


def test_unknown_malformed_and_foreign_ids_are_404(api: Api, server: MockServer) -> None:
    foreign = Api(server, server.store.create_tenant())
    foreign_id = create(foreign)
    export = api.create_export()
    api.post(f"/batch_exports/{export['id']}/backfills/", json={"start_at": START, "end_at": END})
    advance(api, 60)
    scheduled_run = api.get(f"/batch_exports/{export['id']}/runs/").json["results"][0]["id"]
    not_found = error("not_found", "Not found.", type="invalid_request")
    for run_id in (foreign_id, scheduled_run, "not-a-uuid", "018f5a12-7e40-7000-b3c4-d5e6f7a8b9c0"):
        for path in ("", "download/", "logs/"):
            response = api.get(f"{BASE}{run_id}/{path}")
            assert (response.status_code, response.json) == (404, not_found), (run_id, path)
        assert api.post(f"{BASE}{run_id}/cancel/").status_code == 404


def test_a_planned_failure_shows_its_error_and_cannot_be_downloaded(api: Api, server: MockServer) -> None:
    server.backend.file_downloads.plan_outcomes(api.tenant.project_id, [Outcome("Failed", "S3 said no")])
    run_id = create(api)
    advance(api, 600)
    assert api.get(f"{BASE}{run_id}/").json == {"status": "Failed", "error": "S3 said no"}
    response = api.get(f"{BASE}{run_id}/download/")
    assert (response.status_code, response.json) == (400, bad("Batch export run has failed"))
    create(api)  # the plan was used up: the next one completes
    advance(api, 600)
    assert [r["status"] for r in api.get(BASE).json["results"]] == ["Completed", "Failed"]


def test_a_file_download_planned_to_fail_without_an_error_shows_a_realistic_one(api: Api, server: MockServer) -> None:
    server.backend.file_downloads.plan_outcomes(api.tenant.project_id, [Outcome("Failed")])
    run_id = create(api)
    advance(api, 600)
    assert api.get(f"{BASE}{run_id}/").json == {
        "status": "Failed",
        "error": "FileDownload batch export failed: the destination could not be reached",
    }


def test_error_is_shown_whatever_the_status(api: Api, server: MockServer) -> None:
    run_id = create(api)
    server.backend.file_downloads.plan_run_outcome(run_id, Outcome("Completed", latest_error="partial retry"))
    advance(api, 600)
    status = api.get(f"{BASE}{run_id}/").json
    assert list(status) == ["status", "files", "error"]
    assert status["error"] == "partial retry" and len(status["files"]) == 1


def test_a_completed_run_whose_files_are_not_recorded_yet_reads_as_running(api: Api, server: MockServer) -> None:
    run_id, _ = completed(api)
    server.store.files_by_run[run_id] = []  # as in PostHog, between the run row and the file rows
    assert api.get(f"{BASE}{run_id}/").json == {"status": "Running"}


def test_nothing_to_export_completes_with_no_files(api: Api, server: MockServer) -> None:
    server.backend.file_downloads.plan_outcomes(api.tenant.project_id, [Outcome("Completed", records_completed=0)])
    run_id, files = completed(api)
    assert files == []
    response = api.get(f"{BASE}{run_id}/download/")
    assert (response.status_code, response.json) == (
        404,
        error("not_found", "No files with index 0", type="invalid_request"),
    )


def test_cancel_from_starting_or_running_only(api: Api) -> None:
    run_id = create(api)
    assert api.post(f"{BASE}{run_id}/cancel/").json == {"status": "Cancelled"}
    again = api.post(f"{BASE}{run_id}/cancel/")
    assert (again.status_code, again.json) == (400, bad("Cannot cancel a run that is in 'Cancelled' status"))
    advance(api, 600)
    assert api.get(f"{BASE}{run_id}/").json == {"status": "Cancelled"}  # it never completed
    download = api.get(f"{BASE}{run_id}/download/")
    assert (download.status_code, download.json) == (400, bad("Batch export run was cancelled"))

    running = create(api)
    advance(api, 60)
    assert api.post(f"{BASE}{running}/cancel/").json == {"status": "Cancelled"}
    done, _ = completed(api)
    refused = api.post(f"{BASE}{done}/cancel/")
    assert (refused.status_code, refused.json) == (400, bad("Cannot cancel a run that is in 'Completed' status"))


def test_logs_are_the_runs_worker_lines_newest_first(api: Api, server: MockServer) -> None:
    run_id, _ = completed(api)
    completed(api)  # another run: its lines stay out of this run's page
    page = api.get(f"{BASE}{run_id}/logs/").json
    records = run_of(server, run_id).records_completed
    assert page["count"] == 4 and {entry["instance_id"] for entry in page["results"]} == {run_id}
    assert [e["message"] for e in page["results"]] == [
        f"Batch export run finished successfully: {records} records exported",
        f"Exported {records} records to 1 file",
        "Batch export run is running",
        f"Batch export run {run_id} starting",
    ]
    assert api.get(f"{BASE}{run_id}/logs/", query_string={"limit": 1}).json["count"] == 1
    assert api.get(f"{BASE}{run_id}/logs/", query_string={"level": "WARNING"}).json["count"] == 0


# -- download ---------------------------------------------------------------------------


def test_download_refuses_runs_in_progress(api: Api) -> None:
    run_id = create(api)
    for _ in ("Starting", "Running"):
        response = api.get(f"{BASE}{run_id}/download/0/")
        assert (response.status_code, response.json) == (400, bad("Batch export run is still in progress"))
        advance(api, 60)


@pytest.mark.parametrize(
    ("file_options", "model"),
    [
        ({"format": "Parquet", "compression": "zstd"}, "events"),
        ({"format": "Parquet"}, "persons"),
        ({"format": "Parquet", "compression": "snappy"}, "sessions"),
        ({"format": "JSONLines"}, "events"),
        ({"format": "JSONLines", "compression": "gzip"}, "persons"),
        ({"format": "JSONLines", "compression": "brotli"}, "sessions"),
    ],
)
def test_a_full_walk_downloads_real_rows_of_the_model(
    api: Api, server: MockServer, file_options: dict[str, Any], model: str
) -> None:
    run_id, files = completed(api, file=file_options, model=model)
    assert len(files) == 1
    served = fetch(api, run_id)
    file_format, compression = file_options["format"], file_options.get("compression")
    extension = datagen.file_extension(file_format, compression)
    assert served.headers["Content-Type"] == datagen.content_type(file_format, compression)
    assert served.headers["Content-Disposition"] == (
        f'attachment; filename="2026-01-05T10:00:00+00:00-2026-01-05T11:00:00+00:00.{extension}"'
    )
    rows = parse(served.data, file_format, compression)
    run = run_of(server, run_id)
    assert len(rows) == run.records_completed == run.records_total_count > 0
    assert run.bytes_exported == len(served.data)
    assert list(rows[0]) == [column.name for column in datagen.COLUMNS[model]]
    low, high = datetime.fromisoformat(START), datetime.fromisoformat(END)
    timestamps = [c.name for c in datagen.COLUMNS[model] if c.kind == "timestamp"]
    for row in rows:
        assert row["team_id"] == api.tenant.project_id
        for name in timestamps:
            assert low <= as_datetime(row[name]) < high, (name, row[name])
    if model == "events":
        assert all(row["event"] in datagen.EVENT_NAMES for row in rows)
        json_properties = rows[0]["properties"]
        properties = json.loads(json_properties) if file_format == "Parquet" else json_properties
        assert properties["$host"]


def test_the_redirect_is_absolute_on_the_requests_host_and_followable(server: MockServer, api: Api) -> None:
    run_id, [file_id] = completed(api)
    client = Client(server)
    headers = {"Authorization": f"Bearer {api.tenant.api_key}"}
    path = f"{api.prefix}{BASE}{run_id}/download/"
    redirect = client.get(path, headers=headers, base_url="http://fake.test:8123")
    assert redirect.headers["Location"] == f"http://fake.test:8123/_mock/files/{file_id}/"
    followed = client.get(path, headers=headers, follow_redirects=True)
    assert followed.status_code == 200 and followed.data == fetch(api, run_id).data


def test_part_is_a_file_id_or_an_index_in_key_order(api: Api, server: MockServer) -> None:
    run_id, files = completed(
        api,
        file={"format": "JSONLines", "max_size_mb": 1},
        data_interval_start="2026-01-04T12:00:00Z",
        data_interval_end="2026-01-05T12:00:00Z",
    )
    assert 2 < len(files) < 10  # under ten, key order ("-0", "-1", …) is also numeric order
    store = server.store
    assert files == [f.id for f in sorted((store.download_files[i] for i in files), key=lambda f: f.key)]
    for index, file_id in enumerate(files):
        by_index = fetch(api, run_id, str(index))
        assert fetch(api, run_id, file_id).data == by_index.data
        assert by_index.headers["Content-Disposition"].endswith(f'-{index}.jsonl"')
    assert fetch(api, run_id).data == fetch(api, run_id, "0").data
    assert fetch(api, run_id, " 1").data == fetch(api, run_id, "1").data  # Python's int() is lenient

    def refused(part: str) -> tuple[int, Any]:
        response = api.get(f"{BASE}{run_id}/download/{part}/")
        return response.status_code, response.json

    assert refused("first") == (400, bad("Invalid file id or index: 'first'"))
    assert refused(str(len(files))) == (
        404,
        error("not_found", f"No files with index {len(files)}", type="invalid_request"),
    )
    assert refused("-1") == (404, error("not_found", "No files with index -1", type="invalid_request"))
    assert refused("018f5a12-7e40-7000-b3c4-d5e6f7a8b9c0") == (
        404,
        error("not_found", "Not found.", type="invalid_request"),
    )
    assert refused("1.5") == (404, error("not_found", "Endpoint not found.", type="invalid_request"))


def test_max_size_splits_into_files_of_about_that_size(api: Api, server: MockServer) -> None:
    day = {"data_interval_start": "2026-01-04T12:00:00Z", "data_interval_end": "2026-01-05T12:00:00Z"}
    run_id, files = completed(api, file={"format": "Parquet", "max_size_mb": 1}, **day)
    contents = [server.store.download_files[i].content for i in files]
    assert len(contents) > 1
    # A file is closed once it reaches the size, so only its last row group may cross it.
    assert all(len(c) < 1024 * 1024 + 300_000 for c in contents)
    rows = [row for content in contents for row in parse(content, "Parquet", None)]
    run = run_of(server, run_id)
    assert len(rows) == run.records_completed and run.bytes_exported == sum(map(len, contents))
    assert len({row["uuid"] for row in rows}) == len(rows)
    _, [only] = completed(api, file={"format": "Parquet", "max_size_mb": 0}, **day)
    assert server.store.download_files[only].key.endswith("+00:00.parquet")


def test_files_expire_an_hour_after_completion(api: Api) -> None:
    run_id, _ = completed(api)  # completed at 12:03, clock now 12:10
    location = api.get(f"{BASE}{run_id}/download/").headers["Location"]
    advance(api, 3600 - 420)  # 13:03: the last instant it is still valid
    assert api.client.get(location).status_code == 200
    advance(api, 1)
    response = api.get(f"{BASE}{run_id}/download/")
    assert (response.status_code, response.json) == (400, bad("This file download has expired"))
    gone = api.client.get(location)
    assert (gone.status_code, gone.json) == (
        410,
        error("gone", "This file download has expired", type="invalid_request"),
    )


def test_unknown_file_is_404(api: Api) -> None:
    for file_id in ("nope", "018f5a19-33c0-7000-9e8d-7c6b5a493827"):
        response = api.client.get(f"/_mock/files/{file_id}/")
        assert (response.status_code, response.json) == (404, error("not_found", "Not found.", type="invalid_request"))


def test_the_environments_alias_serves_the_same_downloads(api: Api) -> None:
    run_id, files = completed(api)
    alias = f"/api/environments/{api.tenant.project_id}{BASE}{run_id}/"
    assert api.get(alias).json == {"status": "Completed", "files": files}
    assert api.get(alias + "download/").headers["Location"].endswith(f"/_mock/files/{files[0]}/")


@pytest.mark.parametrize("file_options", [{"format": "Parquet", "compression": "zstd"}, {"format": "JSONLines"}])
def test_same_seed_same_requests_byte_identical_files(file_options: dict[str, Any]) -> None:
    def files_of_a_fresh_fake() -> list[bytes]:
        server = MockServer(strict=True, seed=42)
        api = Api(server, server.store.create_tenant())
        run_id, files = completed(api, file=file_options, model="sessions")
        return [fetch(api, run_id, file_id).data for file_id in files]

    first, second = files_of_a_fresh_fake(), files_of_a_fresh_fake()
    assert first == second and first[0]
    other = MockServer(seed=43)
    other_api = Api(other, other.store.create_tenant())
    run_id, _ = completed(other_api, file=file_options, model="sessions")
    assert fetch(other_api, run_id).data != first[0]


def test_reset_forgets_file_downloads(api: Api, server: MockServer) -> None:
    completed(api)
    server.store.reset()
    store = server.store
    assert not (store.on_demand_exports or store.download_files or store.files_by_run or store.file_downloads_by_team)


def test_an_on_demand_exports_runs_are_not_under_batch_exports(api: Api, server: MockServer) -> None:
    """PostHog's runs viewset filters on ``batch_export_id``, which an on-demand run leaves null."""
    run_id, _ = completed(api)
    on_demand_id = run_of(server, run_id).batch_export_on_demand_id
    runs = f"/batch_exports/{on_demand_id}/runs/"
    assert api.get(runs).json == {"next": None, "previous": None, "results": []}
    for method, path in [
        ("GET", f"{runs}{run_id}/"),
        ("GET", f"{runs}{run_id}/logs/"),
        ("POST", f"{runs}{run_id}/retry/"),
        ("POST", f"{runs}{run_id}/cancel/"),
    ]:
        answer = api.request(method, path)
        assert (answer.status_code, answer.json) == (404, error("not_found", "Not found.", type="invalid_request"))
    assert server.errors == []
