"""A small client for PostHog's batch-exports API: list, create, pause, and watch runs.

It retries what PostHog asks to be retried (429 with ``Retry-After``, 503) and a dropped
connection, a bounded number of times, and gives up on a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

__all__ = ["BatchExportsClient", "PostHogError"]

US = "https://us.posthog.com"


class PostHogError(RuntimeError):
    """PostHog answered an error: ``status`` and its body's ``detail``."""

    def __init__(self, status: int, body: Any) -> None:
        detail = body.get("detail") if isinstance(body, dict) else body
        super().__init__(f"{status}: {detail}")
        self.status, self.body = status, body


class BatchExportsClient:
    def __init__(
        self,
        api_key: str,
        project_id: int,
        *,
        host: str = US,
        retries: int = 2,
        timeout: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = httpx.Client(base_url=f"{host}/api/projects/{project_id}", timeout=timeout,
                                 headers={"Authorization": f"Bearer {api_key}"})  # fmt: skip
        self.retries = retries
        self.sleep = sleep

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.RemoteProtocolError:
                if last:
                    raise
                continue
            if response.status_code in (429, 503) and not last:
                self.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 400:
                raise PostHogError(response.status_code, response.json() if response.content else None)
            return response.json() if response.content else None
        raise AssertionError("unreachable")

    def list_exports(self) -> list[dict[str, Any]]:
        return list(self._pages("/batch_exports/"))

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        page = self._request("GET", path)
        while True:
            yield from page["results"]
            if not page.get("next"):
                return
            page = self._request("GET", page["next"])

    def create_s3_export(self, name: str, bucket: str, integration: int, *, interval: str = "hour") -> dict[str, Any]:
        config = {"bucket_name": bucket, "region": "us-east-1", "prefix": "posthog/"}
        body = {"name": name, "interval": interval,
                "destination": {"type": "AwsS3", "integration": integration, "config": config}}  # fmt: skip
        result: dict[str, Any] = self._request("POST", "/batch_exports/", json=body)
        return result

    def pause(self, export_id: str) -> None:
        self._request("POST", f"/batch_exports/{export_id}/pause/")

    def runs(self, export_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/batch_exports/{export_id}/runs/"))

    def failed_runs(self, export_id: str) -> list[dict[str, Any]]:
        return [run for run in self.runs(export_id) if run["status"] in ("Failed", "FailedRetryable")]

    def retry(self, export_id: str, run_id: str) -> str:
        result: dict[str, Any] = self._request("POST", f"/batch_exports/{export_id}/runs/{run_id}/retry/")
        return str(result["backfill_id"])
