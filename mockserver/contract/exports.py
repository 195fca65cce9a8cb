"""Phase ``exports``: random create / patch / pause / unpause / delete / list, checked against a model.

After every step the target must agree with the model of what the suite did:

* ``pagination.count`` — a list's ``count`` is the number of live exports;
* ``pagination.slice`` — any ``limit``/``offset`` gives that slice of the newest-first order;
* ``pagination.slice`` also covers a page larger than 50 (once per run, before the examples, with a
  control plane: it takes 51 exports in one project, too many to make on a real account);
* ``pagination.walk`` — following ``next`` visits each live export exactly once, newest first,
  and each page's ``previous`` leads back to the page before it;
* ``pause.idempotent`` — pause and unpause answer the same however often, and retrieve and
  list show the state;
* ``delete.gone`` — a deleted export is 404 for retrieve, patch, pause and unpause, and is in
  no list (project, environment or organization level);
* ``patch.persists`` — a changed name is what retrieve shows, and nothing the PATCH did not
  name changes with it (``paused``);
* ``timestamps`` — ``created_at`` never changes, and a pause sets ``last_paused_at``;
* ``invalid-input`` — a write with a bad value is 400 naming the field (``attr``, ``code``) and
  changes nothing;
* ``method-not-allowed`` — a 405 carries an ``Allow`` header without the method refused;
* ``secrets.hidden`` — a destination's secret (the HTTP destination's ``token``) is in no answer;
* ``pagination.links`` — ``next`` and ``previous`` name the host that was asked;
* ``auth.no-credentials`` — without a key, every request is 401;
* ``auth.read-only`` — with a read-only key, every write is 403 and changes nothing;
* ``auth.isolation`` — another organization's key never sees these exports;
* ``error-body-shape`` — every 4xx is ``{type, code, detail, attr}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from mockserver.contract.model import PropertyViolation
from mockserver.contract.stateful import ContractMachine

__all__ = ["ExportsMachine"]

#: Walks and lists stay bounded however many exports the project already had.
_MAX_PAGES = 25
#: Exports made once per run to see a page larger than a cap of 50 would allow.
_LARGE_PAGE = 51
_WRITES = ("patch", "pause", "unpause", "delete", "create")
#: Writes the target must refuse: ``("value", field named in the 400, its code, method)``, the
#: body from :data:`_INVALID_BODIES` (the create lacks ``name``; the PATCHes change an existing
#: export), or ``("method", route)``, a method the route does not have.
_REFUSED: tuple[tuple[str, ...], ...] = (
    ("value", "interval", "invalid_choice", "PATCH"),
    ("value", "name", "blank", "PATCH"),
    ("value", "name", "required", "POST"),
    ("method", "list"),
    ("method", "pause"),
)
_INVALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("interval", "invalid_choice"): {"interval": "monthly"},
    ("name", "blank"): {"name": ""},
    ("name", "required"): {"interval": "day", "destination": {"type": "NoOp", "config": {}}},
}
#: The fields a refused write must leave as they were (``latest_runs`` may move on its own).
_STABLE = ("name", "interval", "paused", "destination", "created_at", "last_paused_at")
#: The URLs PostHog's HTTP destination accepts, by cloud; an export to one is made paused (and
#: never unpaused by the suite), so it never sends anything.
SECRET_DESTINATION_URLS = {"us": "https://us.i.posthog.com/batch/", "eu": "https://eu.i.posthog.com/batch/"}


class ExportsMachine(ContractMachine):
    PROPERTIES = (
        "pagination.count",
        "pagination.slice",
        "pagination.walk",
        "pause.idempotent",
        "patch.persists",
        "timestamps",
        "invalid-input",
        "method-not-allowed",
        "secrets.hidden",
        "pagination.links",
        "delete.gone",
        "auth.no-credentials",
        "auth.read-only",
        "auth.isolation",
        "error-body-shape",
        "no-server-error",
        "response-shape",
    )

    @initialize(
        count=st.integers(1, 3),
        interval=st.sampled_from(["hour", "day"]),
        refused=st.sampled_from([case for case in _REFUSED if case[0] == "value"]),
    )
    def take_stock_and_start(self, count: int, interval: str, refused: tuple[str, ...]) -> None:
        """Note what the project already holds (nothing, on a fresh tenant; the suite never touches
        it), then make a few exports before any random step, so that pages, renames and deletes
        always have something to work on. Every example starts with the same few checks, whatever
        the random steps turn out to be: a pause twice over, a refused write and a walk of pages."""
        self.mine: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        #: export id → the secret its destination was given (never to be seen again).
        self.secrets: dict[str, str] = {}
        self.baseline: list[tuple[str, str]] = []  # (created_at, id) of exports that were there before
        url: str | None = f"{self.project}/batch_exports/?limit=100"
        pages = 0
        while url and pages < _MAX_PAGES:
            body = self.expect("pagination.walk", self.api.get(url) if pages == 0 else self.api.follow(url), 200)
            self.baseline += [(e["created_at"], e["id"]) for e in body["results"]]
            url, pages = body["next"], pages + 1
        for _ in range(count):
            self.create(interval, paused=False)
        # The first one paused (twice: the second changes nothing), so that a rename or a refused
        # write later has a paused export to keep paused.
        first = next(iter(self.mine))
        self._pause(first, "pause")
        self._pause(first, "pause")
        self._refused_value(first, refused)
        self.walk(1)

    def before_examples(self) -> None:
        """A page of ``limit=100`` holds every one of 51 exports: no cap below the ``limit`` asked.

        With a control plane only (its tenant is the run's own): 51 exports are too many to make
        on a real account."""
        if self.workspace.control is None:
            return
        listing = f"{self.project}/batch_exports/"
        before = self.expect("pagination.count", self.api.get(listing), 200)["count"]
        made = []
        for _ in range(_LARGE_PAGE):
            body = {"name": self.workspace.name(), "interval": "day", "paused": True,
                    "destination": {"type": "NoOp", "config": {}}}  # fmt: skip
            made.append(self.expect("create", self.api.post(f"{self.project}/batch_exports/", body), 201)["id"])
        expected = before + len(made)
        page = self.expect("pagination.slice", self.api.get(listing, params={"limit": 100}), 200)
        shown = len(page["results"])
        wanted = min(expected, 100)
        self.check("pagination.slice", shown == wanted, f"{wanted} exports on a page of limit=100",
                   f"{shown} of count {page['count']}")  # fmt: skip
        for export_id in made:
            path = f"{self.project}/batch_exports/{export_id}/"
            self.expect("delete.gone", self.api.delete(path), 204)
            self.workspace.forget(path)
        after = self.expect("delete.gone", self.api.get(listing, params={"limit": 100}), 200)
        left = sorted(set(made) & {e["id"] for e in after["results"]})
        self.check("delete.gone", not left, f"the {len(made)} exports deleted gone from the list", left[:5])

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

    @rule(interval=st.sampled_from(["hour", "day", "week"]), paused=st.booleans(), secret=st.booleans())
    def create(self, interval: str, paused: bool, secret: bool = False) -> None:
        """A new export; with ``secret``, one whose destination carries a secret (the HTTP
        destination's ``token``, made paused so that it never sends anything), which no answer
        may show."""
        if self.workspace.control is not None:
            self.workspace.control.advance(1)  # distinct creation times, as on a real server
        name = self.workspace.name()
        destination: dict[str, Any] = {"type": "NoOp", "config": {}}
        token = f"{name}-token"
        if secret:
            region = "eu" if (urlsplit(self.api.transport.base_url).hostname or "").startswith("eu.") else "us"
            destination = {"type": "HTTP", "config": {"url": SECRET_DESTINATION_URLS[region], "token": token}}
            paused = True
        body = {"name": name, "interval": interval, "paused": paused, "destination": destination}
        response = self.api.post(f"{self.project}/batch_exports/", body)
        if secret and response.status in (400, 403):
            self.expect("create", response, 400, 403)
            return  # a target that does not offer this destination (its region, a plan): nothing to check
        created = self.expect("create", response, 201)
        path = f"{self.project}/batch_exports/{created['id']}/"
        self.check(
            "patch.persists",
            created["name"] == name and created["paused"] is paused,
            f"the created export to echo name {name!r} and paused={paused}",
            created,
        )
        self.mine[created["id"]] = {"created_at": created["created_at"], "name": name, "paused": paused}
        if secret:
            self.secrets[created["id"]] = token
            shown = self.api.get(path)
            for what, answer in (("the create's answer", response), ("retrieve", shown)):
                self.check("secrets.hidden", token not in answer.text, f"no destination token in {what}", answer.text)

    @precondition(lambda self: self.mine)
    @rule(data=st.data(), suffix=st.text("abcxyz-_ ", min_size=1, max_size=8))
    def rename(self, data: st.DataObject, suffix: str) -> None:
        export_id = self.pick(data)
        # DRF's CharField trims surrounding white space: the name kept is the trimmed one.
        name = f"{self.mine[export_id]['name']}{suffix}"[:200].strip()
        response = self.api.patch(f"{self.project}/batch_exports/{export_id}/", {"name": name})
        answer = self.expect("patch.persists", response, 200)
        self.mine[export_id]["name"] = name
        shown = self.expect("patch.persists", self.api.get(f"{self.project}/batch_exports/{export_id}/"), 200)
        self.check("patch.persists", shown["name"] == name, f"name {name!r} after PATCH", shown["name"])
        paused = self.mine[export_id]["paused"]
        for what, body in (("the PATCH's answer", answer), ("retrieve", shown)):
            self.check("patch.persists", body["paused"] is paused, f"paused={paused} kept by a rename, in {what}",
                       body["paused"])  # fmt: skip
        secret = self.secrets.get(export_id)
        if secret is not None:
            self.check("secrets.hidden", secret not in response.text, "no destination token in a PATCH's answer",
                       response.text)  # fmt: skip

    @precondition(lambda self: self.mine)
    @rule(data=st.data(), case=st.sampled_from(_REFUSED))
    def refused_write(self, data: st.DataObject, case: tuple[str, ...]) -> None:
        """A write the target must refuse: a bad value (400 naming its field, nothing changed) or a
        method the route does not have (see :meth:`_method_not_allowed`)."""
        if case[0] == "method":
            self._method_not_allowed(data, case[1])
        else:
            self._refused_value(self.pick(data), case)

    def _refused_value(self, export_id: str, case: tuple[str, ...]) -> None:
        _kind, attr, code, method = case
        body = _INVALID_BODIES[(attr, code)]
        path = f"{self.project}/batch_exports/{export_id}/"
        before = self.expect("invalid-input", self.api.get(path), 200)
        if method == "POST":
            response = self.api.post(f"{self.project}/batch_exports/", body)
            if response.status == 201:  # accepted, wrongly: do not leave it behind
                self.api.delete(f"{self.project}/batch_exports/{response.json['id']}/")
        else:
            response = self.api.patch(path, body)
        refused = self.expect("invalid-input", response, 400, code=code)
        self.check("invalid-input", refused["attr"] == attr, f"attr {attr!r} for {body}", refused["attr"])
        after = self.expect("invalid-input", self.api.get(path), 200)
        changed = [f for f in _STABLE if before.get(f) != after.get(f)]
        self.check("invalid-input", not changed, "the export unchanged by a refused write", changed)

    def _method_not_allowed(self, data: st.DataObject, route: str) -> None:
        """PostHog may refuse a method the route lacks for a personal key (403, its permission
        finds no scope for it) or answer 405, which must say what the route allows."""
        if route == "list":
            method, path = "DELETE", f"{self.project}/batch_exports/"
        else:
            method, path = "PUT", f"{self.project}/batch_exports/{self.pick(data)}/pause/"
        response = self.api.request(method, path, json_body={} if method == "PUT" else None)
        self.expect("method-not-allowed", response, 403, 405)
        if response.status == 405:
            allow = [m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()]
            self.check("method-not-allowed", bool(allow), f"an Allow header on the 405 to {method}",
                       dict(response.headers))  # fmt: skip
            self.check("method-not-allowed", method not in allow, f"Allow without {method}", allow)

    @precondition(lambda self: self.mine)
    @rule(data=st.data(), action=st.sampled_from(["pause", "unpause"]))
    def pause_or_unpause(self, data: st.DataObject, action: str) -> None:
        export_id = self.pick(data)
        if export_id in self.secrets:
            action = "pause"  # an HTTP export would send events to PostHog for real once unpaused
        self._pause(export_id, action)

    def _pause(self, export_id: str, action: str) -> None:
        response = self.api.post(f"{self.project}/batch_exports/{export_id}/{action}/")
        body = self.expect("pause.idempotent", response, 200)
        paused = action == "pause"
        self.check("pause.idempotent", body == {"paused": paused}, f'{{"paused": {str(paused).lower()}}}', body)
        was_paused = self.mine[export_id]["paused"]
        self.mine[export_id]["paused"] = paused
        if paused and not was_paused:
            shown = self.expect("timestamps", self.api.get(f"{self.project}/batch_exports/{export_id}/"), 200)
            self.check("timestamps", shown["last_paused_at"] is not None, "last_paused_at set by a pause",
                       shown["last_paused_at"])  # fmt: skip

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
            self.check_link("pagination.links", body["next"])
            body = self.expect("pagination.walk", self.api.follow(body["next"]), 200)
            back = body["previous"]
            self.check("pagination.walk", back is not None, "a previous link after following next", back)
            self.check_link("pagination.links", back)
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
        if self.creds.foreign_organization_id:
            theirs_org = f"/api/organizations/{self.creds.foreign_organization_id}/batch_exports/"
            # 403 for a key restricted to projects (no organization routes for it): nothing shown either.
            response = self.foreign.get(theirs_org, params={"limit": 100})
            self.expect("auth.isolation", response, 200, 403)
            self.check("auth.isolation", export_id not in response.text,
                       "another organization's list without this export", response.text)  # fmt: skip

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
            self.check(
                "timestamps",
                shown["created_at"] == model["created_at"],
                f"created_at {model['created_at']} as created",
                shown["created_at"],
            )
        leaked = [i for i, secret in self.secrets.items() if secret in str(body)]
        self.check("secrets.hidden", not leaked, "no destination token in the list", leaked)
        if self.creds.organization_id and self.mine | {k: {} for k in self.deleted}:
            org = self.api.get(f"/api/organizations/{self.creds.organization_id}/batch_exports/", params={"limit": 100})
            # A key restricted to projects may not read organization routes (403): nothing to look at.
            org_body = self.expect("delete.gone", org, 200, 403)
            ids = {e["id"] for e in org_body["results"]} if org.status == 200 else set()
            self.check(
                "delete.gone",
                not set(self.deleted) & ids,
                "no deleted export in the organization list",
                sorted(set(self.deleted) & ids),
            )
