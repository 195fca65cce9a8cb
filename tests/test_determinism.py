"""One seed fixes everything: the same seed and the same requests give byte-identical responses.

:func:`transcript` plays a day in the life of two tenants against a fresh fake and
returns every response (status, headers and body bytes). Two fakes with the same seed
must agree byte for byte, in this process and in others with a different string-hash
seed (``PYTHONHASHSEED``, which changes set iteration order); a different seed must
change the ids and generated values.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from werkzeug.test import Client

from mockserver import MockServer

Exchange = tuple[str, str, int, list[tuple[str, str]], bytes]


class _Recorder:
    """Sends requests in-process and keeps every response, byte for byte."""

    def __init__(self, server: MockServer) -> None:
        self.client = Client(server)
        self.exchanges: list[Exchange] = []

    def __call__(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        self.exchanges.append((method, path, response.status_code, list(response.headers.items()), response.data))
        if response.status_code == 302:  # a download: follow it, the file's bytes count too
            self(method, response.headers["Location"].split("localhost", 1)[1])
        return response


def transcript(seed: int) -> list[Exchange]:
    """Every response of a fixed, non-trivial scenario against ``MockServer(seed=seed)``."""
    call = _Recorder(MockServer(seed=seed))
    alice = call("POST", "/_mock/tenants/", json={"feature_flags": ["batch-export-earliest-backfill"]}).json
    bob = call(
        "POST",
        "/_mock/tenants/",
        json={"organization_name": "Bob's", "feature_flags": ["high-frequency-batch-exports"]},
    ).json
    a, b = alice["api_key"], bob["api_key"]
    pa, pb = f"/api/projects/{alice['project_id']}", f"/api/projects/{bob['project_id']}"
    integration = {i["kind"]: i["id"] for i in alice["integrations"]}

    def create(prefix: str, key: str, body: dict[str, Any]) -> str:
        response = call("POST", f"{prefix}/batch_exports/", key, json=body)
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    s3 = create(
        pa,
        a,
        {
            "name": "events to S3",
            "interval": "hour",
            "destination": {
                "type": "AwsS3",
                "integration": integration["aws-s3"],
                "config": {"bucket_name": "b", "region": "us-east-1", "prefix": "p/", "file_format": "Parquet"},
            },
        },
    )
    http = create(
        pa,
        a,
        {
            "name": "to EU",
            "interval": "day",
            "destination": {"type": "HTTP", "config": {"url": "https://eu.i.posthog.com/batch/", "token": "t"}},
        },
    )
    bigquery = create(
        pb,
        b,
        {
            "name": "persons to BigQuery",
            "model": "persons",
            "interval": "hour",
            "destination": {
                "type": "BigQuery",
                "integration": next(
                    i["id"] for i in bob["integrations"] if i["kind"] == "google-cloud-service-account"
                ),
                "config": {"dataset_id": "d", "table_id": "t"},
            },
        },
    )
    noop = create(pb, b, {"name": "noop", "interval": "every 5 minutes", "destination": {"type": "NoOp", "config": {}}})
    call("POST", f"{pb}/batch_exports/", b, json={"name": "bad", "interval": "fortnightly"})  # a 400 too

    call("PATCH", f"{pa}/batch_exports/{s3}/", a, json={"name": "events to S3 (renamed)"})
    call("PATCH", f"{pb}/batch_exports/{noop}/", b, json={"interval": "hour"})
    planned = [{"status": "Completed"}] * 2 + [{"status": "FailedRetryable", "latest_error": "S3 said 503"}]
    call("POST", "/_mock/outcomes/", json={"batch_export_id": s3, "outcomes": planned})
    call("POST", f"{pa}/batch_exports/{http}/pause/", a)
    call("POST", "/_mock/clock/advance/", json={"seconds": 6 * 3600})
    call("POST", f"{pa}/batch_exports/{http}/unpause/", a, json={"backfill": True})
    call("POST", "/_mock/clock/advance/", json={"seconds": 18 * 3600})

    for prefix, key, export in ((pa, a, s3), (pa, a, http), (pb, b, bigquery), (pb, b, noop)):
        runs = call("GET", f"{prefix}/batch_exports/{export}/runs/", key).json["results"]
        if runs:
            call("GET", f"{prefix}/batch_exports/{export}/runs/{runs[-1]['id']}/", key)
            call("GET", f"{prefix}/batch_exports/{export}/runs/{runs[-1]['id']}/logs/", key)
        call("GET", f"{prefix}/batch_exports/{export}/logs/", key)
        call("GET", f"{prefix}/batch_exports/{export}/backfills/", key)
    failed = [
        r for r in call("GET", f"{pa}/batch_exports/{s3}/runs/", a).json["results"] if r["status"] == "FailedRetryable"
    ]
    call("POST", f"{pa}/batch_exports/{s3}/runs/{failed[0]['id']}/retry/", a)
    call("POST", f"{pb}/batch_exports/{bigquery}/backfills/", b,
         json={"start_at": "2026-01-05T00:00:00Z", "end_at": "2026-01-05T03:00:00Z"})  # fmt: skip
    call("POST", "/_mock/clock/advance/", json={"seconds": 3600})
    call("GET", f"{pb}/batch_exports/{bigquery}/backfills/", b)
    call("GET", f"{pa}/batch_exports/", a)
    call("GET", f"/api/organizations/{bob['organization_id']}/batch_exports/", b)
    call("DELETE", f"{pb}/batch_exports/{noop}/", b)

    download = call("POST", f"{pa}/file_download_batch_exports/", a, json={
        "file": {"format": "JSONLines", "compression": "gzip"}, "model": "events",
        "data_interval_start": "2026-01-06T00:00:00Z", "data_interval_end": "2026-01-06T02:00:00Z",
    })  # fmt: skip
    call("POST", "/_mock/clock/advance/", json={"seconds": 600})
    if download.status_code == 202:
        call("GET", f"{pa}/file_download_batch_exports/{download.json['id']}/", a)
        call("GET", f"{pa}/file_download_batch_exports/{download.json['id']}/download/", a)

    call("POST", "/_mock/faults/", json={"operation_id": "batch_exports_list", "status": 429, "times": 1})
    call("GET", f"{pb}/batch_exports/", b)
    call("GET", "/_mock/state/")
    call("GET", "/_mock/journal/", query_string={"limit": 50})
    return call.exchanges


def _digest(exchanges: list[Exchange]) -> str:
    digest = hashlib.sha256()
    for method, path, status, headers, body in exchanges:
        digest.update(repr((method, path, status, headers)).encode())
        digest.update(body)
    return digest.hexdigest()


def test_the_scenario_is_non_trivial() -> None:
    exchanges = transcript(7)
    statuses = [status for _m, _p, status, _h, _b in exchanges]
    assert statuses.count(201) >= 8 and 400 in statuses and 429 in statuses
    state = exchanges[-2][4]
    assert state.count(b'"status":"Completed"') > 20 and b'"FailedRetryable"' in state


def test_same_seed_same_requests_byte_identical_responses() -> None:
    first, second = transcript(7), transcript(7)
    assert len(first) == len(second)
    for one, two in zip(first, second, strict=True):
        assert one == two, f"{one[0]} {one[1]} differs"


def test_a_different_seed_gives_different_ids_and_values() -> None:
    seven, eight = transcript(7), transcript(8)
    assert [e[2] for e in seven] == [e[2] for e in eight]  # the same story…
    assert [e[4] for e in seven] != [e[4] for e in eight]  # …told with other ids and values
    assert seven[0][4] != eight[0][4]  # even the first tenant's key


def test_other_processes_with_other_hash_seeds_agree() -> None:
    """Nothing depends on set order, object ids or anything else that differs between runs."""
    expected = _digest(transcript(7))
    code = "import test_determinism as t; print(t._digest(t.transcript(7)))"
    tests_dir = Path(__file__).parent
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(tests_dir)}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=120
        )
        assert result.stdout.strip() == expected
