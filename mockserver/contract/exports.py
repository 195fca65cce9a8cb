"""Phase ``exports``: random create / patch / pause / unpause / delete / list, checked against a model.

After every step the target must agree with the model of what the suite did:

* ``pagination.count`` — a list's ``count`` is the number of live exports;
* ``pagination.slice`` — any ``limit``/``offset`` gives that slice of the newest-first order;
* ``pagination.walk`` — following ``next`` visits each live export exactly once, newest first,
  and each page's ``previous`` leads back to the page before it;
* ``pause.idempotent`` — pause and unpause answer the same however often, and retrieve and
  list show the state;
* ``delete.gone`` — a deleted export is 404 for retrieve, patch, pause and unpause, and is in
  no list (project, environment or organization level);
* ``patch.persists`` — a changed name is what retrieve shows;
* ``auth.no-credentials`` — without a key, every request is 401;
* ``auth.read-only`` — with a read-only key, every write is 403 and changes nothing;
* ``auth.isolation`` — another organization's key never sees these exports;
* ``error-body-shape`` — every 4xx is ``{type, code, detail, attr}``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from mockserver.contract.model import PropertyViolation
from mockserver.contract.stateful import ContractMachine

__all__ = ["ExportsMachine"]

#: Walks and lists stay bounded however many exports the project already had.
_MAX_PAGES = 25
_WRITES = ("patch", "pause", "unpause", "delete", "create")


class ExportsMachine(ContractMachine):
    PROPERTIES = (
        "pagination.count",
        "pagination.slice",
        "pagination.walk",
        "pause.idempotent",
        "patch.persists",
        "delete.gone",
        "auth.no-credentials",
        "auth.read-only",
        "auth.isolation",
        "error-body-shape",
        "no-server-error",
        "response-shape",
    )

    @initialize(count=st.integers(1, 3), interval=st.sampled_from(["hour", "day"]))
    def take_stock_and_start(self, count: int, interval: str) -> None:
        """Note what the project already holds (nothing, on a fresh tenant; the suite never touches
        it), then make a few exports before any random step, so that pages, renames and deletes
        always have something to work on."""
        self.mine: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.baseline: list[tuple[str, str]] = []  # (created_at, id) of exports that were there before
        url: str | None = f"{self.project}/batch_exports/?limit=100"
        pages = 0
        while url and pages < _MAX_PAGES:
            body = self.expect("pagination.walk", self.api.get(url) if pages == 0 else self.api.follow(url), 200)
            self.baseline += [(e["created_at"], e["id"]) for e in body["results"]]
            url, pages = body["next"], pages + 1
        for _ in range(count):
            self.create(interval, paused=False)

    def teardown(self) -> None:
        cleaner = self.workspace.client(self.creds.api_key)  # outside the history: not part of a reproduction
        for export_id in list(getattr(self, "mine", {})):
            path = f"{self.project}/batch_exports/{export_id}/"
            if cleaner.delete(path).status in (204, 404):
                self.workspace.forget(path)

    # -- the model ---------------------------------------------------------------------

    def expected_order(self) -> list[str]:
        """Live exports newest first; ties in creation time, newest created first."""
        ours = [(e["created_at"], n, i) for n, (i, e) in enumerate(self.mine.items())]
        theirs = [(created, -1, i) for created, i in self.baseline]
        return [i for _created, _n, i in sorted(ours + theirs, key=lambda t: (t[0], t[1]), reverse=True)]

    def pick(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(sorted(self.mine)), label="export")

    # -- rules -------------------------------------------------------------------------

    @rule(interval=st.sampled_from(["hour", "day", "week"]), paused=st.booleans())
    def create(self, interval: str, paused: bool) -> None:
        if self.workspace.control is not None:
            self.workspace.control.advance(1)  # distinct creation times, as on a real server
        name = self.workspace.name()
        body = {"name": name, "interval": interval, "paused": paused, "destination": {"type": "NoOp", "config": {}}}
        created = self.expect("create", self.api.post(f"{self.project}/batch_exports/", body), 201)
        path = f"{self.project}/batch_exports/{created['id']}/"
        self.workspace.created(f"batch export {name}", path, self.creds.api_key)
        self.check(
            "patch.persists",
            created["name"] == name and created["paused"] is paused,
            f"the created export to echo name {name!r} and paused={paused}",
            created,
        )
        self.mine[created["id"]] = {"created_at": created["created_at"], "name": name, "paused": paused}

    @precondition(lambda self: self.mine)
    @rule(data=st.data(), suffix=st.text("abcxyz-_ ", min_size=1, max_size=8))
    def rename(self, data: st.DataObject, suffix: str) -> None:
        export_id = self.pick(data)
        # DRF's CharField trims surrounding white space: the name kept is the trimmed one.
        name = f"{self.mine[export_id]['name']}{suffix}"[:200].strip()
        self.expect("patch.persists", self.api.patch(f"{self.project}/batch_exports/{export_id}/", {"name": name}), 200)
        self.mine[export_id]["name"] = name
        shown = self.expect("patch.persists", self.api.get(f"{self.project}/batch_exports/{export_id}/"), 200)
        self.check("patch.persists", shown["name"] == name, f"name {name!r} after PATCH", shown["name"])

    @precondition(lambda self: self.mine)
    @rule(data=st.data(), action=st.sampled_from(["pause", "unpause"]))
    def pause_or_unpause(self, data: st.DataObject, action: str) -> None:
        export_id = self.pick(data)
        response = self.api.post(f"{self.project}/batch_exports/{export_id}/{action}/")
        body = self.expect("pause.idempotent", response, 200)
        paused = action == "pause"
        self.check("pause.idempotent", body == {"paused": paused}, f'{{"paused": {str(paused).lower()}}}', body)
        self.mine[export_id]["paused"] = paused

    @precondition(lambda self: self.mine)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        export_id = self.pick(data)
        path = f"{self.project}/batch_exports/{export_id}/"
        self.expect("delete.gone", self.api.delete(path), 204)
        self.workspace.forget(path)
        del self.mine[export_id]
        self.deleted.append(export_id)
        for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "pause/"), ("POST", "unpause/"), ("DELETE", "")):
            body = {"name": "x"} if method == "PATCH" else None
            response = self.api.request(method, path + suffix, json_body=body)
            self.expect("delete.gone", response, 404)

    @rule(limit=st.integers(1, 4), offset=st.integers(0, 6), level=st.sampled_from(["projects", "environments"]))
    def list_slice(self, limit: int, offset: int, level: str) -> None:
        url = f"/api/{level}/{self.creds.project_id}/batch_exports/"
        body = self.expect("pagination.slice", self.api.get(url, params={"limit": limit, "offset": offset}), 200)
        order = self.expected_order()
        self.check("pagination.count", body["count"] == len(order), f"count {len(order)}", body["count"])
        got = [e["id"] for e in body["results"]]
        self.check(
            "pagination.slice",
            got == order[offset : offset + limit],
            f"ids {order[offset : offset + limit]} at limit={limit}&offset={offset}",
            got,
        )
        self.check(
            "pagination.slice",
            (body["next"] is None) == (offset + limit >= len(order)),
            f"next {'absent' if offset + limit >= len(order) else 'present'}",
            body["next"],
        )
        self.check(
            "pagination.slice",
            (body["previous"] is None) == (offset == 0),
            f"previous {'absent' if offset == 0 else 'present'}",
            body["previous"],
        )

    @rule(limit=st.integers(1, 3))
    def walk(self, limit: int) -> None:
        order = self.expected_order()
        if len(order) > limit * _MAX_PAGES:
            return  # too many pre-existing exports to walk at this page size
        pages: list[list[str]] = []
        urls: list[str] = []
        body = self.expect(
            "pagination.walk", self.api.get(f"{self.project}/batch_exports/", params={"limit": limit}), 200
        )
        while True:
            pages.append([e["id"] for e in body["results"]])
            if body["next"] is None or len(pages) > _MAX_PAGES:
                break
            urls.append(body["next"])
            body = self.expect("pagination.walk", self.api.follow(body["next"]), 200)
            back = body["previous"]
            self.check("pagination.walk", back is not None, "a previous link after following next", back)
            again = self.expect("pagination.walk", self.api.follow(back), 200)
            self.check(
                "pagination.walk",
                [e["id"] for e in again["results"]] == pages[-1],
                f"previous to lead back to {pages[-1]}",
                [e["id"] for e in again["results"]],
            )
        seen = [i for page in pages for i in page]
        self.check("pagination.walk", seen == order, f"each live export once, newest first: {order}", seen)

    @precondition(lambda self: self.mine or self.deleted)
    @rule(data=st.data(), write=st.sampled_from(_WRITES))
    def write_without_credentials(self, data: st.DataObject, write: str) -> None:
        export_id = self.pick(data) if self.mine else self.deleted[-1]
        response = self._write(self.anonymous, export_id, write)
        self.expect("auth.no-credentials", response, 401, code="not_authenticated")

    @precondition(lambda self: self.mine and self.read_only is not None)
    @rule(data=st.data(), write=st.sampled_from(_WRITES))
    def write_read_only(self, data: st.DataObject, write: str) -> None:
        export_id = self.pick(data)
        before = self.expect("auth.read-only", self.api.get(f"{self.project}/batch_exports/{export_id}/"), 200)
        assert self.read_only is not None
        self.expect("auth.read-only", self._write(self.read_only, export_id, write), 403, code="permission_denied")
        after = self.expect("auth.read-only", self.api.get(f"{self.project}/batch_exports/{export_id}/"), 200)
        self.check("auth.read-only", after == before, "the export unchanged after a refused write", after)
        listed = self.expect("auth.read-only", self.read_only.get(f"{self.project}/batch_exports/"), 200)
        self.check(
            "auth.read-only",
            listed["count"] == len(self.expected_order()),
            f"count {len(self.expected_order())} read with the read-only key",
            listed["count"],
        )

    @precondition(lambda self: self.mine and self.foreign is not None)
    @rule(data=st.data())
    def foreign_key(self, data: st.DataObject) -> None:
        export_id = self.pick(data)
        assert self.foreign is not None
        for response in (
            self.foreign.get(f"{self.project}/batch_exports/{export_id}/"),
            self.foreign.get(f"{self.project}/batch_exports/"),
            self.foreign.post(f"{self.project}/batch_exports/{export_id}/pause/"),
        ):
            self.expect("auth.isolation", response, 403, 404)
            self.check("auth.isolation", export_id not in response.text, "no trace of the export", response.text)
        # Under the other tenant's own project, where its key is accepted: the export is not there.
        theirs = f"/api/projects/{self.creds.foreign_project_id}/batch_exports/{export_id}/"
        before = self.api.get(f"{self.project}/batch_exports/{export_id}/").json
        writes = (
            ("GET", "", None),
            ("PATCH", "", {"name": "taken over"}),
            ("POST", "pause/", None),
            ("DELETE", "", None),
        )
        for method, suffix, body in writes:
            response = self.foreign.request(method, theirs + suffix, json_body=body)
            self.expect("auth.isolation", response, 404)
            self.check("auth.isolation", export_id not in response.text, "no trace of the export", response.text)
        runs = self.expect("auth.isolation", self.foreign.get(theirs + "runs/"), 200, 404)
        self.check("auth.isolation", not (runs or {}).get("results"), "no runs of another tenant's export", runs)
        after = self.api.get(f"{self.project}/batch_exports/{export_id}/").json
        self.check("auth.isolation", after == before, "the export unchanged by another tenant's writes", after)
        own = self.expect(
            "auth.isolation", self.foreign.get(f"/api/projects/{self.creds.foreign_project_id}/batch_exports/"), 200
        )
        self.check("auth.isolation", export_id not in str(own), "another tenant's list without this export", own)

    def _write(self, client: Any, export_id: str, write: str) -> Any:
        path = f"{self.project}/batch_exports/{export_id}/"
        if write == "create":
            body = {"name": self.workspace.name(), "interval": "day", "destination": {"type": "NoOp", "config": {}}}
            response = client.post(f"{self.project}/batch_exports/", body)
            if response.status == 201:  # refused is the property; if not, do not leave it behind
                created = response.json["id"]
                self.api.delete(f"{self.project}/batch_exports/{created}/")
            return response
        if write == "patch":
            return client.patch(path, {"name": "renamed without permission"})
        if write == "delete":
            return client.delete(path)
        return client.post(path + f"{write}/")

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def list_and_retrieve_agree_with_the_model(self) -> None:
        if not hasattr(self, "mine"):
            return
        order = self.expected_order()
        if len(order) > 100:
            return
        body = self.expect("pagination.count", self.api.get(f"{self.project}/batch_exports/"), 200)
        self.check("pagination.count", body["count"] == len(order), f"count {len(order)}", body["count"])
        listed = {e["id"]: e for e in body["results"]}
        self.check(
            "delete.gone",
            not set(self.deleted) & set(listed),
            "no deleted export listed",
            sorted(set(self.deleted) & set(listed)),
        )
        for export_id, model in self.mine.items():
            shown = listed.get(export_id)
            if shown is None:
                raise PropertyViolation("pagination.count", f"export {export_id} listed", "missing from the list")
            self.check(
                "pause.idempotent",
                shown["paused"] is model["paused"],
                f"paused={model['paused']} in the list",
                shown["paused"],
            )
        if self.creds.organization_id and self.mine | {k: {} for k in self.deleted}:
            org = self.api.get(f"/api/organizations/{self.creds.organization_id}/batch_exports/", params={"limit": 100})
            org_body = self.expect("delete.gone", org, 200)
            ids = {e["id"] for e in org_body["results"]}
            self.check(
                "delete.gone",
                not set(self.deleted) & ids,
                "no deleted export in the organization list",
                sorted(set(self.deleted) & ids),
            )
