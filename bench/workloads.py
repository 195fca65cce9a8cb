"""The four HTTP workloads, defined once for wrk (``workload.lua``) and the Python load generator.

* ``list``: ``GET /api/projects/{A}/batch_exports/?limit=10``, project A holding 100 exports;
* ``retrieve``: ``GET /api/projects/{A}/batch_exports/{id}/``;
* ``create``: ``POST /api/projects/{C}/batch_exports/`` with :data:`CREATE_BODY` (project C, so
  the list of project A stays at 100 exports however many creates run);
* ``mixed``: :data:`MIXED_CYCLE` repeated, 50 % retrieve, 30 % list, 20 % create.
"""

from __future__ import annotations

from dataclasses import dataclass

WORKLOADS = ("list", "retrieve", "create", "mixed")
LABELS = {"list": "GET list", "retrieve": "GET retrieve", "create": "POST create", "mixed": "mixed"}
CREATE_BODY = '{"name": "bench", "interval": "hour", "destination": {"type": "NoOp", "config": {}}}'
MIXED_CYCLE = ("retrieve", "list", "retrieve", "create", "retrieve", "list", "retrieve", "create", "retrieve", "list")
#: Exports in project A (the list workload pages through them 10 at a time).
LIST_EXPORTS = 100
LIST_LIMIT = 10
#: What a correct answer to each request is (checked once per target before loading it).
EXPECTED_STATUS = {"list": 200, "retrieve": 200, "create": 201}


@dataclass(frozen=True)
class Endpoints:
    """Where the workloads send their requests, with the keys that open them.

    Project A (``list_project``, opened by ``api_key``) is read; project C
    (``create_project``, another tenant's, opened by ``create_key``) is written.
    """

    api_key: str
    list_project: int
    create_key: str
    create_project: int
    export_id: str

    @property
    def list_path(self) -> str:
        return f"/api/projects/{self.list_project}/batch_exports/?limit={LIST_LIMIT}"

    @property
    def retrieve_path(self) -> str:
        return f"/api/projects/{self.list_project}/batch_exports/{self.export_id}/"

    @property
    def create_path(self) -> str:
        return f"/api/projects/{self.create_project}/batch_exports/"

    def request(self, kind: str) -> tuple[str, str, dict[str, str], str | None]:
        """``(method, path, headers, body)`` of one request kind."""
        auth = {"Authorization": f"Bearer {self.api_key}"}
        if kind == "list":
            return "GET", self.list_path, auth, None
        if kind == "retrieve":
            return "GET", self.retrieve_path, auth, None
        if kind == "create":
            headers = {"Authorization": f"Bearer {self.create_key}", "Content-Type": "application/json"}
            return "POST", self.create_path, headers, CREATE_BODY
        raise ValueError(f"unknown request kind {kind!r}")

    def raw_request(self, kind: str, host: str, port: int) -> bytes:
        """The request as bytes on the wire (HTTP/1.1, keep-alive), as wrk would send it."""
        method, path, headers, body = self.request(kind)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        payload = (body or "").encode()
        if body is not None:
            lines.append(f"Content-Length: {len(payload)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload

    def cycle(self, workload: str) -> tuple[str, ...]:
        """The request kinds one connection sends, in order, repeated."""
        return MIXED_CYCLE if workload == "mixed" else (workload,)

    def wrk_args(self, workload: str) -> list[str]:
        """Arguments of ``workload.lua`` (after ``--`` on wrk's command line)."""
        return [
            workload,
            self.api_key,
            self.create_key,
            self.list_path,
            self.retrieve_path,
            self.create_path,
            CREATE_BODY,
            ",".join(MIXED_CYCLE),
        ]
