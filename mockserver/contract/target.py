"""Where the contract suite sends requests, and how each exchange is kept for the report.

A :class:`Target` names an implementation of the batch-exports API: a base URL (our fake
served on localhost, real PostHog, anyone's fake) or a WSGI app called in process, plus
the credentials the suite may use. :meth:`Target.connect` gives a :class:`Transport`;
a :class:`Client` speaks for one key over it and records every :class:`Exchange`, so
that a failed property can be shown as the ``curl`` lines that reproduce it.

>>> from mockserver import MockServer
>>> server = MockServer()
>>> tenant = server.store.create_tenant()
>>> target = Target.in_process(server, api_key=tenant.api_key, project_id=tenant.project_id)
>>> client = Client(target.connect(), target.api_key)
>>> client.get(f"/api/projects/{tenant.project_id}/batch_exports/").status
200
>>> print(client.history[-1].curl(redact=target.api_key))  # doctest: +NORMALIZE_WHITESPACE
curl -X GET http://localhost/api/projects/1/batch_exports/ -H "Authorization: Bearer $POSTHOG_API_KEY"
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from mockserver.http.spec import DEFAULT_PROFILE, PROFILES

__all__ = ["Client", "Exchange", "HTTPTransport", "Response", "Target", "Transport", "WSGITransport", "Unreachable"]

#: The URL shown for an in-process target (``curl`` lines then need ``make run``'s URL).
IN_PROCESS_URL = "http://localhost"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Unreachable(Exception):
    """The target did not answer at all (connection refused, DNS, timeout)."""


@dataclass(frozen=True)
class Target:
    """An implementation of the API and the credentials the suite may use on it.

    Args:
        base_url: where it listens (``http://127.0.0.1:8000``, ``https://us.posthog.com``);
            ``None`` for an in-process ``app``.
        api_key: a personal API key with ``batch_export:read`` and ``batch_export:write``.
        project_id: the one project the suite may create objects in.
        organization_id: the project's organization, for the organization-level routes
            (found through the API when not given).
        read_only_api_key: a key with ``batch_export:read`` only, for the scope checks;
            without one (and without a control plane to mint one) they are skipped.
        app: a WSGI app to call in process (no sockets).
        timeout: seconds to wait for one response.
        profile: the version of PostHog's API the target plays, which the answers are
            judged by: ``docs`` (the API of the public docs) or ``current`` (today's
            PostHog, whose exports carry ``hogql_query``, ``primary_key`` and more). A
            fake with a control plane is asked for tenants of this profile.
    """

    base_url: str | None
    api_key: str
    project_id: int
    organization_id: str | None = None
    read_only_api_key: str | None = None
    app: WSGIApp | None = field(default=None, repr=False, compare=False)
    timeout: float = 30.0
    profile: str = DEFAULT_PROFILE

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile: one of {', '.join(PROFILES)}, not {self.profile!r}")

    @classmethod
    def in_process(cls, app: WSGIApp, *, api_key: str, project_id: int, **kwargs: Any) -> Target:
        """A WSGI app called directly, through werkzeug's test client."""
        return cls(None, api_key, project_id, app=app, **kwargs)

    @property
    def display_url(self) -> str:
        return (self.base_url or IN_PROCESS_URL).rstrip("/")

    def with_credentials(self, api_key: str, project_id: int, organization_id: str | None) -> Target:
        """The same implementation, another key and project (a fresh tenant of a control plane)."""
        return replace(self, api_key=api_key, project_id=project_id, organization_id=organization_id)

    def connect(self) -> Transport:
        if self.app is not None:
            return WSGITransport(self.app)
        assert self.base_url is not None, "a Target needs a base_url or an app"
        return HTTPTransport(self.base_url, timeout=self.timeout)


@dataclass(frozen=True)
class Response:
    """What came back: status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is empty or not JSON."""
        if not self.content:
            return None
        try:
            return json.loads(self.content)
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class Transport(Protocol):
    """Sends one request; ``url`` is the path and query, ``base_url`` is prepended by the transport."""

    base_url: str

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Response: ...

    def close(self) -> None: ...


class WSGITransport:
    """Calls a WSGI app in process (werkzeug's test client; redirects are not followed)."""

    base_url = IN_PROCESS_URL

    def __init__(self, app: WSGIApp) -> None:
        from werkzeug.test import Client as WerkzeugClient

        self._client = WerkzeugClient(app)

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        path, _, query = url.partition("?")
        response = self._client.open(path, method=method, headers=dict(headers), data=body, query_string=query)
        content = response.get_data()
        return Response(response.status_code, {k.lower(): v for k, v in response.headers.items()}, content)

    def close(self) -> None:
        pass


class HTTPTransport:
    """Sends over HTTP with one keep-alive ``requests`` session (redirects are not followed)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        self._errors: tuple[type[BaseException], ...] = (requests.ConnectionError, requests.Timeout)
        #: Why the target stopped answering: later requests fail at once with it instead of
        #: each waiting out the timeout (hypothesis replays a failure many times).
        #: ``revive()`` clears it, for the clean-up's one more try.
        self.lost: str | None = None

    def revive(self) -> None:
        self.lost = None

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        if self.lost is not None:
            raise Unreachable(self.lost)
        try:
            response = self._session.request(
                method,
                self.base_url + url,
                headers=dict(headers),
                data=body,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except self._errors as exc:
            self.lost = f"{method} {self.base_url}{url}: {exc}"
            raise Unreachable(self.lost) from exc
        return Response(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content)

    def close(self) -> None:
        self._session.close()


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as the report shows it."""

    method: str
    base_url: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    response: Response

    def curl(self, redact: Iterable[str] = ()) -> str:
        """The request as a ``curl`` line; keys in ``redact`` become ``$POSTHOG_API_KEY``-style variables."""
        secrets = [redact] if isinstance(redact, str) else list(redact)
        parts = ["curl", "-X", self.method, shlex.quote(self.base_url + self.url)]
        for name, value in self.headers.items():
            header = f"{name}: {value}"
            for number, secret in enumerate(secrets):
                if secret and secret in header:
                    variable = "$POSTHOG_API_KEY" if number == 0 else f"$POSTHOG_API_KEY_{number + 1}"
                    header = header.replace(secret, variable)
            parts += ["-H", f'"{header}"' if "$" in header else shlex.quote(header)]
        if self.body:
            parts += ["-d", shlex.quote(self.body.decode("utf-8", "replace"))]
        return " ".join(parts)

    def summary(self) -> str:
        """``POST /path → 201``: one line for progress and reports."""
        return f"{self.method} {self.url} → {self.response.status}"


class Client:
    """Speaks for one API key (or none) and keeps what it sent.

    ``on_response`` sees every exchange as it happens (the suite checks the error body
    shape of every 4xx there); ``history`` keeps them for the report, ``count`` totals.
    """

    def __init__(
        self,
        transport: Transport,
        api_key: str | None,
        *,
        history: list[Exchange] | None = None,
        on_response: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.transport = transport
        self.api_key = api_key
        self.history: list[Exchange] = history if history is not None else []
        self.on_response = on_response
        self.count = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        url = path
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        sent: dict[str, str] = {}
        if self.api_key is not None:
            sent["Authorization"] = f"Bearer {self.api_key}"
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        response = self.transport.send(method, url, sent, body)
        self.count += 1
        exchange = Exchange(method, self.transport.base_url, url, sent, body, response)
        self.history.append(exchange)
        if self.on_response is not None:
            self.on_response(exchange)
        return response

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Response:
        return self.request("POST", path, json_body=json_body, **kwargs)

    def patch(self, path: str, json_body: Any = None, **kwargs: Any) -> Response:
        return self.request("PATCH", path, json_body=json_body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)

    def follow(self, url: str) -> Response:
        """GET an absolute ``next``/``previous`` link: only its path and query are used."""
        parts = urlsplit(url)
        return self.get(parts.path + (f"?{parts.query}" if parts.query else ""))
