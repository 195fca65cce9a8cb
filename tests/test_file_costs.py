"""A file download's rows are made outside the store's lock, and expired files free their bytes."""

from __future__ import annotations

from typing import Any

import pytest
from support import Api

from mockserver import MockServer
from mockserver.domain import file_downloads

BASE = "/file_download_batch_exports/"
BODY = {
    "file": {"format": "JSONLines"},
    "model": "events",
    "data_interval_start": "2026-01-05T08:00:00Z",
    "data_interval_end": "2026-01-05T11:00:00Z",
}


def contents(server: MockServer) -> list[bytes]:
    return [f.content for f in server.store.download_files.values()]


def test_rows_are_made_without_the_lock_when_created_and_used_when_the_run_completes(
    server: MockServer, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[bool] = []
    real = file_downloads._make

    def spy(recipe: Any) -> Any:
        made.append(server.store.lock._is_owned())
        return real(recipe)

    monkeypatch.setattr(file_downloads, "_make", spy)
    assert api.post(BASE, json=BODY).status_code == 202
    assert made == [False]  # made once, while nobody held the lock
    assert api.post("/_mock/clock/advance/", json={"seconds": 200}).status_code == 200
    assert made == [False]  # completion used them
    assert len(contents(server)) == 1 and contents(server)[0]


def test_prepared_files_are_the_bytes_completion_would_have_made() -> None:
    outputs = []
    for prepare in (True, False):
        server = MockServer(seed=9)
        tenant = server.store.create_tenant()
        downloads = server.backend.file_downloads
        run = downloads.create(tenant.project_id, BODY)
        if prepare:
            downloads.prepare(run.id)
        server.store.clock.advance(200)
        outputs.append((contents(server), run.records_completed, run.bytes_exported))
    assert outputs[0] == outputs[1] and outputs[0][0]


def test_a_replanned_outcome_is_not_served_from_stale_prepared_files(server: MockServer, api: Api) -> None:
    from mockserver.domain.lifecycle import Outcome

    run_id = api.post(BASE, json=BODY).json["id"]
    server.backend.file_downloads.plan_run_outcome(run_id, Outcome("Completed", records_completed=7))
    assert api.post("/_mock/clock/advance/", json={"seconds": 200}).status_code == 200
    assert server.store.runs[run_id].records_completed == 7
    assert sum(f.records for f in server.store.download_files.values()) == 7


def test_expired_files_free_their_bytes_and_answer_410(server: MockServer, api: Api) -> None:
    run_id = api.post(BASE, json=BODY).json["id"]
    api.post("/_mock/clock/advance/", json={"seconds": 180})  # completes at +180 s
    (file,) = server.store.download_files.values()
    expiry = server.store.limits.file_download_expiration_seconds
    api.post("/_mock/clock/advance/", json={"seconds": expiry})  # exactly expires_at: still served
    assert file.content and api.get(f"/_mock/files/{file.id}/").status_code == 200

    api.post("/_mock/clock/advance/", json={"seconds": 1})
    assert file.content == b""
    assert api.get(f"/_mock/files/{file.id}/").status_code == 410
    assert api.get(f"{BASE}{run_id}/download/").status_code == 400
