"""The suite's footprint on a target: credentials, clients, the objects it made, and their cleanup.

Against a target with the fake's ``/_mock/`` control plane, each phase gets a fresh
tenant (so its lists hold only its own objects), a read-only key minted for that
tenant's project, a second tenant to test isolation with, and the virtual clock to make
runs happen. Against any other target (real PostHog), every phase works in the one
project it was given, with the keys it was given, and touches nothing it did not create:
each export is named ``contract-<run id>-<n>`` and deleted at the end, even when the run
fails or is interrupted (:meth:`Workspace.cleanup`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mockserver.contract.target import Client, Exchange, Response, Target, Transport, Unreachable

__all__ = ["ControlPlane", "Credentials", "Workspace"]


class ControlPlane:
    """The fake's ``/_mock/`` routes, when the target has them."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @classmethod
    def detect(cls, transport: Transport) -> ControlPlane | None:
        """The control plane, if ``GET /_mock/clock/`` answers with a clock."""
        client = Client(transport, None)
        try:
            response = client.get("/_mock/clock/")
        except Unreachable:
            raise
        body = response.json
        if response.status == 200 and isinstance(body, dict) and "now" in body:
            return cls(client)
        return None

    def new_tenant(self, **options: Any) -> dict[str, Any]:
        response = self.client.post("/_mock/tenants/", options)
        _expect(response, 201, "POST /_mock/tenants/")
        return dict(response.json)

    def mint_key(self, project_id: int, scopes: list[str]) -> str:
        response = self.client.post("/_mock/keys/", {"project_id": project_id, "scopes": scopes})
        _expect(response, 201, "POST /_mock/keys/")
        return str(response.json["api_key"])

    def add_project(self, organization_id: str) -> int:
        """Another project in the organization (``POST /_mock/projects/``); its id."""
        response = self.client.post("/_mock/projects/", {"organization_id": organization_id})
        _expect(response, 201, "POST /_mock/projects/")
        return int(response.json["project_id"])

    def advance(self, seconds: float) -> None:
        _expect(self.client.post("/_mock/clock/advance/", {"seconds": seconds}), 200, "POST /_mock/clock/advance/")

    def now(self) -> str:
        return str(self.client.get("/_mock/clock/").json["now"])


def _expect(response: Response, status: int, what: str) -> None:
    if response.status != status:
        raise RuntimeError(f"the control plane answered {what} with {response.status}: {response.text[:200]}")


@dataclass(frozen=True)
class Credentials:
    """The keys and project one phase works with."""

    api_key: str
    project_id: int
    organization_id: str | None
    #: ``batch_export:read`` only; ``None`` when none was given and none can be minted.
    read_only_key: str | None
    #: A key of another organization (a second tenant), for isolation; ``None`` without a control plane.
    foreign_key: str | None
    foreign_project_id: int | None = None
    foreign_organization_id: str | None = None
    #: The tenant's integrations, by kind (control plane only).
    integrations: dict[str, int] = field(default_factory=dict)
    #: A tenant the suite made on the fake for this phase alone: its keys are nobody's
    #: secret, and a reproduce line that shows them runs as it stands.
    throwaway: bool = False

    def redact(self, *keys: str | None) -> list[str]:
        """The keys a reproduce line hides (as ``$POSTHOG_API_KEY``…): the keys given, never a throwaway tenant's."""
        return [] if self.throwaway else [key for key in keys if key]


@dataclass
class _Created:
    label: str
    delete_path: str
    api_key: str


class Workspace:
    """What one contract run has on its target.

    Args:
        target: the implementation under test.
        run_id: names what this run creates (``contract-<run_id>-<n>``).
        on_response: sees every exchange of every client (the error-shape check).
    """

    def __init__(self, target: Target, run_id: str, *, on_response: Callable[[Exchange], None] | None = None) -> None:
        self.target = target
        self.run_id = run_id
        self.transport = target.connect()
        self.on_response = on_response
        self.control = ControlPlane.detect(self.transport)
        self._created: list[_Created] = []
        self._names = 0
        self.requests = 0

    @property
    def has_control_plane(self) -> bool:
        return self.control is not None

    def name(self) -> str:
        """A fresh name for an object this run creates."""
        self._names += 1
        return f"contract-{self.run_id}-{self._names}"

    def credentials(self) -> Credentials:
        """A fresh tenant's keys with a control plane; the target's own otherwise."""
        if self.control is None:
            t = self.target
            return Credentials(t.api_key, t.project_id, t.organization_id, t.read_only_api_key, None)
        profile = self.target.profile
        tenant = self.control.new_tenant(feature_flags=["high-frequency-batch-exports"], profile=profile)
        other = self.control.new_tenant(profile=profile)
        read_only = self.control.mint_key(tenant["project_id"], ["batch_export:read"])
        return Credentials(
            tenant["api_key"],
            tenant["project_id"],
            tenant["organization_id"],
            read_only,
            other["api_key"],
            foreign_project_id=other["project_id"],
            foreign_organization_id=other["organization_id"],
            integrations={i["kind"]: i["id"] for i in tenant["integrations"]},
            throwaway=True,
        )

    def client(self, api_key: str | None, history: list[Exchange] | None = None) -> Client:
        """A client for ``api_key`` (``None``: no credentials) whose requests count for the run."""
        client = Client(self.transport, api_key, history=history, on_response=self._seen)
        return client

    def _seen(self, exchange: Exchange) -> None:
        self.requests += 1
        self._remember_export(exchange)  # first: a progress callback may stop the run (Ctrl-C)
        if self.on_response is not None:
            self.on_response(exchange)

    def _remember_export(self, exchange: Exchange) -> None:
        """An export the target made is remembered as its answer arrives, whichever step sent
        the create: an interrupt right after the answer must not leave it behind."""
        if exchange.method != "POST" or exchange.response.status != 201:
            return
        path = urlsplit(exchange.url).path.rstrip("/")  # PostHog's trailing slash is optional
        body = exchange.response.json
        if not path.endswith("/batch_exports") or not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return
        key = exchange.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if key:
            self.created(f"batch export {body.get('name')}", f"{path}/{body['id']}/", key)

    def created(self, label: str, delete_path: str, api_key: str) -> None:
        """Remember an object to delete at the end (``delete_path`` answers ``DELETE``).

        Exports made through :meth:`client` are remembered on their own as their answer
        arrives; this is for what the suite makes another way (schemathesis' own transport)."""
        self._created.append(_Created(label, delete_path, api_key))

    def forget(self, delete_path: str) -> None:
        """The object was deleted by the suite itself."""
        self._created = [c for c in self._created if c.delete_path != delete_path]

    def cleanup(self) -> list[str]:
        """Delete everything still remembered; returns what could not be deleted."""
        revive = getattr(self.transport, "revive", None)
        if revive is not None:
            revive()  # a target that stopped answering may be back: try once more
        leftovers = []
        for item in reversed(self._created):
            try:
                response = Client(self.transport, item.api_key).delete(item.delete_path)
                ok = response.status in (204, 404)
            except Unreachable:
                ok = False
            if not ok:
                leftovers.append(f"{item.label} ({item.delete_path})")
        self._created.clear()
        return leftovers

    def close(self) -> None:
        self.transport.close()
