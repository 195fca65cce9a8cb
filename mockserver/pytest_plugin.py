"""pytest fixtures: a fake PostHog on localhost, and a fresh isolated tenant per test.

Installed packages register this plugin automatically (entry point ``pytest11``)::

    def test_my_exporter(posthog_mock):
        client = MyPostHogClient(host=posthog_mock.url, api_key=posthog_mock.api_key,
                                 project_id=posthog_mock.project_id)
        client.create_export(name="nightly", ...)
        # What this test's project received (other tests share the server, not the project):
        [created] = posthog_mock.journal("batch_exports_create")
        assert created.status == 201

One server is started per test session (``make_server`` on a free port, in a thread);
each test gets its own organization, project and key, so tests never see each other's
data and need no reset. Options: ``--posthog-mock-strict`` validates every response
against the spec; ``--posthog-mock-seed N`` fixes ids and generated values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from mockserver.domain.lifecycle import Outcome
    from mockserver.domain.store import Store, Tenant
    from mockserver.http.app import MockServer
    from mockserver.http.faults import Fault, LatencyRule
    from mockserver.http.journal import JournalEntry
    from mockserver.server import ServerThread

__all__ = ["PostHogMock"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("posthog-mock", "PostHog batch-exports mock")
    group.addoption("--posthog-mock-strict", action="store_true", help="validate every response against the spec")
    group.addoption("--posthog-mock-seed", type=int, default=0, help="seed for ids and generated values")


@dataclass
class PostHogMock:
    """One test's view of the fake: the server's URL plus this test's own tenant."""

    url: str
    app: MockServer
    tenant: Tenant

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def api_key(self) -> str:
        return self.tenant.api_key

    @property
    def project_id(self) -> int:
        return self.tenant.project_id

    @property
    def organization_id(self) -> str:
        return self.tenant.organization_id

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` header for this tenant's key."""
        return {"Authorization": f"Bearer {self.tenant.api_key}"}

    @property
    def project_url(self) -> str:
        """``{url}/api/projects/{project_id}``: prefix of every project-level route."""
        return f"{self.url}/api/projects/{self.tenant.project_id}"

    # -- misbehaviour for this test's tenant only (other tests on the shared fake are unaffected)

    def fault(
        self,
        operation: str | None,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Fault:
        """The next ``times`` requests of ``operation`` for this project answer ``status``.

        ``operation`` is an operationId in any spelling, or ``None`` for every operation.
        """
        return self.app.faults.add(
            operation, status, times=times, headers=headers, body=body, project_id=self.project_id
        )

    def latency(self, seconds: float, operation: str | None = None) -> LatencyRule:
        """Delay this project's responses (of one operation, or of all) by ``seconds``."""
        return self.app.latency.set(seconds, operation=operation, project_id=self.project_id)

    def plan_outcomes(self, export_id: str, outcomes: Iterable[Outcome]) -> list[Outcome]:
        """Make the export's next runs end as planned (see :class:`~mockserver.domain.lifecycle.Outcome`)."""
        return self.app.plan_outcomes(export_id, outcomes)

    def journal(self, operation: str | None = None, **filters: Any) -> list[JournalEntry]:
        """This project's requests and responses, oldest first (filters as ``Journal.entries``)."""
        return self.app.journal.entries(operation=operation, project_id=self.project_id, **filters)


@pytest.fixture(scope="session")
def posthog_mock_server(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    """The session's running fake (a :class:`~mockserver.server.ServerThread`)."""
    from mockserver.http.app import MockServer
    from mockserver.server import ServerThread

    app = MockServer(
        seed=request.config.getoption("posthog_mock_seed"),
        strict=request.config.getoption("posthog_mock_strict"),
    )
    with ServerThread(app) as running:
        yield running


@pytest.fixture
def posthog_mock(posthog_mock_server: ServerThread) -> Iterator[PostHogMock]:
    """A fresh tenant on the session's fake; fails the test if the fake hit a bug meanwhile."""
    app = posthog_mock_server.app
    seen = len(app.errors)
    mock = PostHogMock(posthog_mock_server.url, app, app.store.create_tenant())
    yield mock
    app.faults.clear(project_id=mock.project_id)
    app.latency.clear(project_id=mock.project_id)
    new_errors = app.errors[seen:]
    if new_errors:
        raise new_errors[0]
