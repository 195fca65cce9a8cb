"""Planned faults and latency: make the fake misbehave on purpose, precisely and briefly.

A **fault** makes the next ``times`` matching requests of an operation answer a given
status *without running the handler*, then the operation recovers::

    server.faults.add("batch_exports_create", 503, times=2)
    # two creates answer 503 (nothing is created, no id is drawn), the third succeeds

A fault may also answer a success with a chosen body and headers (``status=200,
body={...}``), **drop the connection** (``drop=True``: no response at all; the client
sees its own connection error) or **answer late** (``delay=seconds``, longer than the
client's timeout to make it time out). A delay without a status runs the operation and
answers normally, only late: the request took effect although the client gave up,
as happens against the real service::

    server.faults.add("batch_exports_create", None, delay=30)  # created, but the client times out
    server.faults.add("batch_exports_list", None, drop=True)   # nothing happens, no answer

A **latency rule** delays every matching response by wall-clock seconds, slept outside
the store's lock so other requests proceed meanwhile::

    server.latency.set(0.2)                                  # every PostHog operation
    server.latency.set(2.0, operation="batch_exports_list")  # this one slower still

Both live in one :class:`~mockserver.http.app.MockServer` (two fakes never share them),
are served over HTTP at ``/_mock/faults/`` and ``/_mock/latency/``, and are cleared by
``store.reset()``.

**Which requests match.** ``operation`` is an operationId of the spec in any spelling
(``batch_exports_list``, ``batch_exports_list_2``, ``environments_batch_exports_list``);
it is stored in canonical form and matches *every* spelling: the project, environment
and organization URLs of the operation. ``None`` matches every PostHog operation. The
``/_mock/`` control plane is never faulted or delayed (you could not clear a fault
otherwise). A rule may be scoped to one tenant, so parallel tests sharing one fake do
not disturb each other:

* ``project_id``: the URL names that project, or (organization URLs) an organization
  that owns it;
* ``api_key``: the request authenticated with that personal API key.

**Where in the pipeline.** A fault is checked after routing, authentication, the scope
check and tenant resolution, exactly where Django REST framework checks throttles:
an unknown path is still 404, a bad key still 401, a foreign project still 403/404,
a wrong method still 405, and such requests do not use up a fault. It is checked
*before* the handler reads the body, so a faulted request with an invalid body gets the
fault, as a throttled request would. A fault is the only 500 the fake answers on purpose;
the other two (a failure of the fake itself, or a strict-mode contract violation) are
recorded in ``MockServer.errors`` as bugs.

**How a drop or a timeout reaches the client.** On werkzeug's server (the plugin's and
``serve --server werkzeug``) a drop closes the socket without a byte of response; in
process, :exc:`ConnectionDropped` and :exc:`ResponseTimedOut` propagate from the WSGI
call and :mod:`mockserver.testing.transports` turns them into the client library's own
errors (a timeout is raised at once there, without sleeping).

>>> faults = Faults(frozenset({"batch_exports_list"}))
>>> fault = faults.add("batch_exports_list_2", 429, times=2, headers={"Retry-After": "1"})
>>> fault.operation, fault.remaining
('batch_exports_list', 2)
>>> fault.reply("GET").body["detail"]
'Request was throttled. Expected available in 1 second.'
>>> [faults.take("batch_exports_list", None, [1]) is not None for _ in range(3)]
[True, True, False]
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson

from mockserver.errors import (
    APIError,
    AuthenticationFailed,
    MethodNotAllowed,
    NotFound,
    PermissionDenied,
    ServerError,
    ServiceUnavailable,
    Throttled,
    ValidationError,
)
from mockserver.http.context import Reply
from mockserver.http.spec import canonical_name, unknown_operation

__all__ = [
    "CLIENT_TIMEOUT_KEY",
    "MAX_LATENCY",
    "ConnectionDropped",
    "Fault",
    "Faults",
    "Latency",
    "LatencyRule",
    "ResponseTimedOut",
    "default_fault_body",
]

#: The longest delay a latency rule may ask for, in seconds (a typo must not hang a worker).
MAX_LATENCY = 300.0


class ConnectionDropped(ConnectionError):
    """A planned fault dropped the connection: the WSGI call ends without a response.

    werkzeug's server treats a ``ConnectionError`` from the app as a dropped client and
    closes the socket without writing anything, which is exactly the point.
    """


class ResponseTimedOut(TimeoutError):
    """In process: the response would arrive after the client's timeout (no one sleeps)."""


#: The WSGI environ key where an in-process client says how long it waits for an answer.
CLIENT_TIMEOUT_KEY = "mockserver.client_timeout"


@dataclass
class _TenantScope:
    """Who a rule applies to: everyone, one project, one key, or both."""

    project_id: int | None = None
    api_key: str | None = None

    def matches(self, api_key: str | None, team_ids: Sequence[int]) -> bool:
        if self.project_id is not None and self.project_id not in team_ids:
            return False
        return self.api_key is None or self.api_key == api_key

    @property
    def is_scoped(self) -> bool:
        return self.project_id is not None or self.api_key is not None

    def selected_by(self, project_id: int | None, api_key: str | None) -> bool:
        """For list/clear filters: ``None`` filters select everything."""
        return (project_id is None or self.project_id == project_id) and (api_key is None or self.api_key == api_key)


class _OperationNames:
    """Turns any spelling of an operationId into its canonical name, or refuses it."""

    def __init__(self, operations: Collection[str]) -> None:
        self.known = frozenset(operations)

    def canonical(self, operation: str | None) -> str | None:
        if operation is None:
            return None
        name = canonical_name(operation)
        if name not in self.known:
            raise unknown_operation(operation, self.known)
        return name


# -- faults ----------------------------------------------------------------------------


def _retry_after(headers: Mapping[str, str]) -> int | None:
    """The ``Retry-After`` header as whole seconds, if it is a number (DRF rounds up)."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return math.ceil(float(value))
            except ValueError:
                return None  # an HTTP-date: DRF would not say how long
    return None


def _throttled(method: str, headers: Mapping[str, str]) -> APIError:
    """DRF's ``Throttled``: the wait, when known, is part of the message."""
    wait = _retry_after(headers)
    if wait is None:
        return Throttled()
    unit = "second" if wait == 1 else "seconds"
    return Throttled(f"Request was throttled. Expected available in {wait} {unit}.")


#: The error PostHog (DRF + drf-exceptions-hog) raises for each status it can answer.
_DEFAULT_ERRORS: dict[int, Callable[[str, Mapping[str, str]], APIError]] = {
    400: lambda _m, _h: ValidationError(),
    401: lambda _m, _h: AuthenticationFailed(),
    403: lambda _m, _h: PermissionDenied(),
    404: lambda _m, _h: NotFound(),
    405: lambda m, _h: MethodNotAllowed(m),
    429: _throttled,
    500: lambda _m, _h: ServerError(),
    503: lambda _m, _h: ServiceUnavailable(),
}


def default_fault_body(status: int, method: str = "GET", headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """PostHog's error body for ``status`` (what a fault answers unless given a body).

    Statuses PostHog itself produces get its exact body; any other 5xx gets DRF's generic
    ``APIException`` body, any other 4xx a body named after the status.

    >>> default_fault_body(503)["detail"]
    'Service temporarily unavailable, try again later.'
    >>> default_fault_body(502)
    {'type': 'server_error', 'code': 'error', 'detail': 'A server error occurred.', 'attr': None}
    >>> default_fault_body(409)
    {'type': 'invalid_request', 'code': 'conflict', 'detail': 'Conflict.', 'attr': None}
    """
    make = _DEFAULT_ERRORS.get(status)
    if make is not None:
        return make(method, headers or {}).body()
    if status >= 500:
        return ServerError().body()
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status the standard library has no name for, such as 499
        phrase = f"Error {status}"
    code = re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")
    return {"type": "invalid_request", "code": code, "detail": f"{phrase}.", "attr": None}


@dataclass
class Fault:
    """One planned fault: answer ``status`` to the next ``remaining`` matching requests."""

    id: int
    #: Canonical operation name, or ``None`` for every PostHog operation.
    operation: str | None
    #: The status to answer instead of the operation; ``None``: the operation answers
    #: (a delay-only fault) or nobody does (a drop).
    status: int | None
    times: int
    remaining: int
    headers: dict[str, str] = field(default_factory=dict)
    #: The JSON body to answer; ``None`` = PostHog's body for an error status, none for a success.
    body: Any = None
    scope: _TenantScope = field(default_factory=_TenantScope)
    #: Close the connection without answering (the operation does not run).
    drop: bool = False
    #: Wall-clock seconds to wait before answering (or dropping), outside the store's lock.
    delay: float = 0.0

    def applies_to(self, operation: str, api_key: str | None, team_ids: Sequence[int]) -> bool:
        return self.operation in (None, operation) and self.scope.matches(api_key, team_ids)

    @property
    def replaces_handler(self) -> bool:
        """Whether the operation is skipped (a planned status, or a drop)."""
        return self.status is not None or self.drop

    def reply(self, method: str) -> Reply:
        """The response this fault gives instead of the operation's."""
        if self.status is None:  # a drop: journaled with status 0, never sent
            return Reply(0, None, dict(self.headers))
        body = self.body
        if body is None and self.status >= 400:
            body = default_fault_body(self.status, method, self.headers)
        return Reply(self.status, body, dict(self.headers))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation_id": self.operation,
            "status": self.status,
            "times": self.times,
            "remaining": self.remaining,
            "headers": dict(self.headers),
            "body": self.body,
            "project_id": self.scope.project_id,
            "api_key": self.scope.api_key,
            "drop": self.drop,
            "delay": self.delay,
        }


#: An HTTP header name (RFC 9110 ``token``).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
#: Headers that frame the message or the connection: the server's to set. One sent by a
#: fault would contradict the body that follows (on a kept-alive connection, the next
#: answer would start inside this one).
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
                      "trailer", "proxy-connection"})  # fmt: skip


def header_problem(name: object, value: object) -> str | None:
    """Why ``name: value`` cannot be sent as one response header line, or ``None`` if it can.

    A line break in a value would end the header early and let the rest pose as headers
    of its own (or a body); WSGI carries header text as ISO-8859-1.

    >>> header_problem("Retry-After", "1") is None
    True
    >>> header_problem("X-A", "ok\\r\\nSet-Cookie: x=1")
    'header "X-A": a value must not contain CR, LF or NUL.'
    >>> header_problem("Content-Length", "0")
    'header "Content-Length": it frames the answer, which the server does itself.'
    """
    if not isinstance(name, str) or not _HEADER_NAME.match(name):
        return f"header {str(name)[:64]!r}: not a valid header name."
    if name.lower() in _FRAMING:
        return f'header "{name}": it frames the answer, which the server does itself.'

    if not isinstance(value, str):
        return f'header "{name}": a value must be a string.'
    if any(c in value for c in "\r\n\0"):
        return f'header "{name}": a value must not contain CR, LF or NUL.'
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return f'header "{name}": a value must be ISO-8859-1 text.'
    return None


class Faults:
    """The planned faults of one fake, in the order they were added (the first match wins).

    Args:
        operations: the canonical names a fault may target (the PostHog operations).
    """

    def __init__(self, operations: Collection[str]) -> None:
        self._names = _OperationNames(operations)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(
        self,
        operation: str | None,
        status: int | None,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        project_id: int | None = None,
        api_key: str | None = None,
        drop: bool = False,
        delay: float = 0.0,
    ) -> Fault:
        """Plan a fault for the next ``times`` requests of ``operation`` (``None``: of any operation).

        Args:
            status: the status to answer (200–599) instead of the operation; ``None`` with
                ``drop`` or ``delay`` only.
            body: the JSON body (default: PostHog's error body for 4xx/5xx, none for others).
            drop: close the connection without a response.
            delay: wall-clock seconds before the answer (at most :data:`MAX_LATENCY`).

        Raises:
            ValueError: an unknown operation, a status outside 200–599, a fault that would
                change nothing, a drop with a status, a bad delay, ``times`` < 1, or a header
                that could not be sent as one header line (see :func:`header_problem`).
        """
        name = self._names.canonical(operation)
        # What HTTP's schema refuses, refused here too (scenarios and Python callers come this way).
        if headers is not None and not isinstance(headers, Mapping):
            raise ValueError(f"headers must be a mapping of names to values, not {headers!r}")
        for header, value in (headers or {}).items():
            problem = header_problem(header, value)
            if problem is not None:
                raise ValueError(problem)
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise ValueError(f"a fault's status is a whole number, not {status!r}")
        if isinstance(times, bool) or not isinstance(times, int):
            raise ValueError(f"times must be a whole number, not {times!r}")
        if isinstance(delay, bool) or not isinstance(delay, (int, float)):
            raise ValueError(f"delay must be a number of seconds, not {delay!r}")
        if not isinstance(drop, bool):
            raise ValueError(f"drop must be true or false, not {drop!r}")
        if body is not None:
            try:
                orjson.dumps(body)
            except TypeError:
                raise ValueError(
                    f"body must be JSON (objects, arrays, strings, numbers, booleans, null), not {body!r}"[:200]
                ) from None
        if status is not None and not 200 <= status <= 599:
            raise ValueError(f"a fault answers a status between 200 and 599, not {status}")
        if drop and status is not None:
            raise ValueError("a dropped connection answers no status")
        if status is None and not drop and not delay:
            raise ValueError("a fault needs a status, drop or a delay")
        if not 0 <= delay <= MAX_LATENCY:
            raise ValueError(f"delay must be between 0 and {MAX_LATENCY:g} seconds")
        if times < 1:
            raise ValueError("a fault must apply at least once")
        with self._lock:
            fault = Fault(
                id=self._next_id,
                operation=name,
                status=status,
                times=times,
                remaining=times,
                headers=dict(headers or {}),
                body=body,
                scope=_TenantScope(project_id, api_key),
                drop=drop,
                delay=float(delay),
            )
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def restore(self, fault: Fault) -> None:
        """Put back a fault saved earlier (``--state-file``), keeping its id and what is left of it."""
        with self._lock:
            self._faults.append(fault)
            self._next_id = max(self._next_id, fault.id + 1)

    def active(self, *, project_id: int | None = None, api_key: str | None = None) -> list[Fault]:
        """Faults not used up yet, oldest first (optionally only those scoped to a tenant)."""
        with self._lock:
            return [f for f in self._faults if f.scope.selected_by(project_id, api_key)]

    def clear(self, *, project_id: int | None = None, api_key: str | None = None) -> int:
        """Drop the faults (all, or those scoped to a project/key); returns how many."""
        with self._lock:
            keep = [f for f in self._faults if not f.scope.selected_by(project_id, api_key)]
            dropped = len(self._faults) - len(keep)
            self._faults = keep
            return dropped

    def reset(self) -> None:
        """Forget everything, ids included (``store.reset()``)."""
        with self._lock:
            self._faults = []
            self._next_id = 1

    def snapshot(self) -> list[Fault]:
        """The faults planned now, for :meth:`keep_only`."""
        with self._lock:
            return list(self._faults)

    def keep_only(self, snapshot: list[Fault]) -> int:
        """Drop every fault that is not one of ``snapshot`` (a :meth:`snapshot`), whatever its scope;
        returns how many. Those of the snapshot stay as they are now (partly or wholly used).

        The pytest plugin's teardown on the shared server: a test's faults, even those for
        every tenant, never reach a later test. Faults are told apart as objects, not by id,
        since a reset starts ids over.
        """
        with self._lock:
            planned = {id(fault) for fault in snapshot}
            keep = [f for f in self._faults if id(f) in planned]
            dropped = len(self._faults) - len(keep)
            self._faults = keep
            return dropped

    def take(self, operation: str, api_key: str | None, team_ids: Sequence[int]) -> Fault | None:
        """Use up one application of the first fault matching this request, if any."""
        if not self._faults:  # the common case, without the lock
            return None
        with self._lock:
            for fault in self._faults:
                if fault.applies_to(operation, api_key, team_ids):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None


# -- latency ---------------------------------------------------------------------------


@dataclass
class LatencyRule:
    """Delay matching responses by ``seconds`` of wall time."""

    operation: str | None
    seconds: float
    scope: _TenantScope = field(default_factory=_TenantScope)

    @property
    def specificity(self) -> tuple[bool, bool]:
        """An operation's own rule beats a rule for every operation; then a tenant's beats everyone's."""
        return (self.operation is not None, self.scope.is_scoped)

    def applies_to(self, operation: str, api_key: str | None, team_ids: Sequence[int]) -> bool:
        return self.operation in (None, operation) and self.scope.matches(api_key, team_ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation,
            "seconds": self.seconds,
            "project_id": self.scope.project_id,
            "api_key": self.scope.api_key,
        }


class Latency:
    """Per-operation (and per-tenant) response delays of one fake.

    The most specific matching rule decides a request's delay (see
    :attr:`LatencyRule.specificity`), so ``set(0.5)`` then
    ``set(0, operation="batch_exports_list")`` slows everything but the list.

    Args:
        operations: the canonical names a rule may target.
        sleep: how to wait (``time.sleep``); tests inject a recorder instead.

    >>> slept = []
    >>> latency = Latency(frozenset({"batch_exports_list"}), sleep=slept.append)
    >>> _ = latency.set(0.5)
    >>> _ = latency.set(0.0, operation="batch_exports_list")
    >>> latency.delay_for("batch_exports_list", None, []), latency.delay_for("batch_exports_create", None, [])
    (0.0, 0.5)
    """

    def __init__(self, operations: Collection[str], *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._names = _OperationNames(operations)
        self._lock = threading.Lock()
        self._rules: list[LatencyRule] = []
        self.sleep = sleep

    def set(
        self,
        seconds: float,
        *,
        operation: str | None = None,
        project_id: int | None = None,
        api_key: str | None = None,
    ) -> LatencyRule:
        """Add a rule, replacing the one with the same operation and tenant scope."""
        name = self._names.canonical(operation)
        if not 0 <= seconds <= MAX_LATENCY:
            raise ValueError(f"latency must be between 0 and {MAX_LATENCY:g} seconds")
        rule = LatencyRule(name, float(seconds), _TenantScope(project_id, api_key))
        with self._lock:
            self._rules = [
                r for r in self._rules if (r.operation, r.scope) != (rule.operation, rule.scope)
            ]  # fmt: skip
            self._rules.append(rule)
        return rule

    def rules(self, *, project_id: int | None = None, api_key: str | None = None) -> list[LatencyRule]:
        with self._lock:
            return [r for r in self._rules if r.scope.selected_by(project_id, api_key)]

    def snapshot(self) -> list[LatencyRule]:
        """The rules as they are now, for :meth:`put_back`."""
        with self._lock:
            return list(self._rules)

    def put_back(self, rules: list[LatencyRule]) -> None:
        """Make ``rules`` (a :meth:`snapshot`) the rules again: any rule set since is gone, any replaced is back."""
        with self._lock:
            self._rules = list(rules)

    def clear(self, *, project_id: int | None = None, api_key: str | None = None) -> int:
        with self._lock:
            keep = [r for r in self._rules if not r.scope.selected_by(project_id, api_key)]
            dropped = len(self._rules) - len(keep)
            self._rules = keep
            return dropped

    def reset(self) -> None:
        self.clear()

    def delay_for(self, operation: str, api_key: str | None, team_ids: Sequence[int]) -> float:
        """Seconds to delay this request: the most specific matching rule's, else 0 (latest wins a tie)."""
        if not self._rules:
            return 0.0
        with self._lock:
            matching = [r for r in self._rules if r.applies_to(operation, api_key, team_ids)]
        if not matching:
            return 0.0
        # max() keeps the first of equals; reversed() makes the latest rule win a tie.
        return max(reversed(matching), key=lambda r: r.specificity).seconds

    def wait(self, seconds: float) -> None:
        """Sleep (with the injected sleeper); never call this while holding the store's lock."""
        if seconds > 0:
            self.sleep(seconds)
