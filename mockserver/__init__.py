"""A stateful, spec-driven fake of PostHog's batch-exports API.

>>> from mockserver import MockServer
>>> server = MockServer()                 # a WSGI app; serve it or call it in-process
>>> tenant = server.store.create_tenant()  # an isolated organization, project and key
"""

from mockserver.clock import Clock
from mockserver.domain.store import Store, Tenant
from mockserver.errors import APIError
from mockserver.http.app import MockServer
from mockserver.http.parsed import ResponseContractError

__all__ = ["APIError", "Clock", "MockServer", "ResponseContractError", "Store", "Tenant"]
