"""Shared fixtures: an in-process fake in strict mode and a client bound to one tenant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# Imported before any pytester run: pytester takes modules imported during an in-process run
# out of sys.modules afterwards, and a second import of PyYAML then meets its C extension,
# which kept the first import's classes ("could not determine a constructor for the tag
# None"). The fake imports PyYAML only when it parses YAML, often first inside such a run.
import yaml  # noqa: F401
from support import Api

from mockserver import MockServer, Tenant

pytest_plugins = ["pytester"]


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A fresh in-process fake that checks every response against the spec."""
    app = MockServer(strict=True)
    yield app
    assert not app.errors, app.errors


@pytest.fixture
def tenant(server: MockServer) -> Tenant:
    return server.store.create_tenant()


@pytest.fixture
def api(server: MockServer, tenant: Tenant) -> Api:
    return Api(server, tenant)
