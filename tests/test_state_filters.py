"""``GET /_mock/state/`` narrowed to one tenant, to some kinds of rows, or paged.

Each tenant's rows are found through its indexes, so the state of one tenant among
hundreds costs what it shows; the full dump is the same rows, all of them, in the same
order as a scan of every table would give.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import Api, error

from mockserver import MockServer
from mockserver.domain.snapshot import plain
from mockserver.domain.store import Store

HOUR = 3600


@pytest.fixture
def busy(server: MockServer) -> list[Api]:
    """Three tenants with exports, runs, logs, a backfill and a file download; one has two projects."""
    apis = [Api(server, server.store.create_tenant()) for _ in range(3)]
    for api in apis:
        export = api.create_export()
        api.post(f"/batch_exports/{export['id']}/backfills/",
                 json={"start_at": "2026-01-04T00:00:00Z", "end_at": "2026-01-04T03:00:00Z"})  # fmt: skip
    server.store.add_project(apis[1].tenant.organization_id, "Second project")
    response = apis[2].post("/file_download_batch_exports/", json={
        "model": "events", "file": {"format": "JSONLines"},
        "data_interval_start": "2026-01-05T10:00:00Z", "data_interval_end": "2026-01-05T11:00:00Z",
    })  # fmt: skip
    assert response.status_code == 202, response.json
    assert apis[0].post("/_mock/clock/advance/", json={"seconds": 3 * HOUR}).status_code == 200
    return apis


def scanned(store: Store) -> list[dict[str, Any]]:
    """The organizations of the state as a scan of every table gives them."""

    def with_outcomes(export: Any) -> dict[str, Any]:
        return {**plain(export), "planned_outcomes": plain(store.planned_outcomes.get(export.id, ()))}

    out = []
    for org in store.organizations.values():
        projects = []
        for team_id in org.team_ids:
            team = store.teams[team_id]
            projects.append({
                **plain(team),
                "integrations": [plain(i) for i in store.integrations.values() if i.team_id == team_id],
                "batch_exports": [with_outcomes(e) for e in store.batch_exports.values() if e.team_id == team_id],
                "runs": [plain(r) for r in store.runs.values() if r.team_id == team_id],
                "backfills": [plain(b) for b in store.backfills.values() if b.team_id == team_id],
                "logs": [plain(e) for e in store.logs if e.team_id == team_id],
                "on_demand_exports": [with_outcomes(e) for e in store.on_demand_exports.values()
                                      if e.team_id == team_id],
                "download_files": [plain(f) for f in store.download_files.values() if f.team_id == team_id],
                "planned_file_download_outcomes": plain(store.file_download_outcomes.get(team_id, ())),
            })  # fmt: skip
        keys = [plain(k) for k in store.api_keys.values() if org.id in k.organization_ids]
        out.append({**plain(org), "api_keys": keys, "projects": projects})
    return out


def state(api: Api, **query: Any) -> Any:
    response = api.get("/_mock/state/", query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def test_the_full_dump_is_every_row_in_the_order_a_scan_gives(busy: list[Api], server: MockServer) -> None:
    full = state(busy[0])
    assert full["organizations"] == scanned(server.store)
    assert sum(len(p["runs"]) for o in full["organizations"] for p in o["projects"]) >= 9
    assert full["organizations"][2]["projects"][0]["download_files"]


def test_one_tenant_by_its_organization_or_one_project_by_its_id(busy: list[Api]) -> None:
    full = state(busy[0])["organizations"]

    by_org = state(busy[0], tenant=busy[1].tenant.organization_id)
    assert by_org["organizations"] == [full[1]] and len(full[1]["projects"]) == 2

    by_project = state(busy[0], tenant=str(busy[1].tenant.project_id))
    assert by_project["organizations"] == [{**full[1], "projects": [full[1]["projects"][0]]}]
    assert set(by_project) == {"now", "seed", "progression", "limits", "organizations"}


def test_only_some_kinds_of_rows(busy: list[Api]) -> None:
    full = state(busy[0])["organizations"]
    narrowed = state(busy[0], kind="runs, logs")["organizations"]
    for whole, part in zip(full, narrowed, strict=True):
        assert "api_keys" not in part
        for project, shown in zip(whole["projects"], part["projects"], strict=True):
            assert shown == {k: v for k, v in project.items() if k not in _LISTS or k in ("runs", "logs")}


_LISTS = ("integrations", "batch_exports", "runs", "backfills", "logs", "on_demand_exports", "download_files",
          "planned_file_download_outcomes")  # fmt: skip


def test_organizations_in_pages(busy: list[Api]) -> None:
    full = state(busy[0])["organizations"]
    page = state(busy[0], limit=2, offset=1)
    assert page["count"] == 3 and page["organizations"] == full[1:3]
    assert page["next"] is None and page["previous"] == "http://localhost/_mock/state/?limit=2"
    first = state(busy[0], limit=2)
    assert first["organizations"] == full[:2] and first["next"] == "http://localhost/_mock/state/?limit=2&offset=2"


def test_an_unknown_tenant_is_404_and_an_unknown_kind_400(busy: list[Api]) -> None:
    missing = busy[0].get("/_mock/state/", query_string={"tenant": "no-such-org"})
    assert (missing.status_code, missing.json) == (404, error("not_found", "No organization or project with this id.",
                                                              type="invalid_request"))  # fmt: skip
    wrong = busy[0].get("/_mock/state/", query_string={"kind": "runs,exports"})
    assert wrong.status_code == 400
    assert wrong.json["code"] == "invalid_choice" and wrong.json["attr"] == "kind"


def test_what_is_shown_is_taken_under_the_lock_and_rendered_after(busy: list[Api], server: MockServer) -> None:
    store = server.store
    render = store.capture_state()
    run = next(iter(store.runs.values()))
    before = run.status
    with store.lock:
        run.status = "Cancelled"  # a change after the capture is not in the rendered state
    try:
        shown = [r for o in render()["organizations"] for p in o["projects"] for r in p["runs"] if r["id"] == run.id]
        assert [r["status"] for r in shown] == [before]
    finally:
        run.status = before
