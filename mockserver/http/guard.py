"""Who may use the control plane (``/_mock/``).

The control plane reads every tenant's keys and secrets (``/_mock/state/``) and wipes
the fake (``/_mock/reset/``). A fake is a test tool: by default only clients on the
same machine, judged by the connection's peer address (``REMOTE_ADDR``, which the
server sets and a client cannot), may use it, and so may a caller in the same process
(a WSGI test client sets no peer address). Any other client needs the token the
fake was started with (``--control-plane-token``, sent in ``X-Mock-Control-Token``),
or the fake must have been opened explicitly (``--unsafe-open-control-plane``).
The PostHog API itself answers anyone: its keys are the access control.

Living in the WSGI app, the rule holds under any server.

>>> guard = ControlPlaneGuard()
>>> guard.allows({"REMOTE_ADDR": "127.0.0.1"}), guard.allows({"REMOTE_ADDR": "10.0.0.7"})
(True, False)
>>> ControlPlaneGuard(token="s3cret").allows({"REMOTE_ADDR": "10.0.0.7", "HTTP_X_MOCK_CONTROL_TOKEN": "s3cret"})
True
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from typing import Any

from mockserver.errors import PermissionDenied
from mockserver.http.journal import CONTROL_TOKEN_HEADER

__all__ = ["ControlPlaneGuard", "is_loopback"]

_TOKEN_KEY = "HTTP_" + CONTROL_TOKEN_HEADER.upper().replace("-", "_")


@functools.lru_cache(maxsize=256)
def is_loopback(address: str) -> bool:
    """Whether ``address`` (an IPv4 or IPv6 peer, IPv4-mapped included) is this machine's loopback.

    >>> [is_loopback(a) for a in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "10.0.0.1", "", "localhost")]
    [True, True, True, False, False, False]
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


class ControlPlaneGuard:
    """The rule for ``/_mock/``: loopback peers, else the token, else only if opened.

    Args:
        token: a secret that lets any client in (``None``: no token opens it).
        open: let every client in (a fake reachable from a network then hands out
            every tenant's keys and secrets: only for networks you trust entirely).
    """

    def __init__(self, token: str | None = None, *, open: bool = False) -> None:
        if token is not None and not token:
            raise ValueError("the control plane's token must not be empty")
        self.token = token
        self.open = open

    def allows(self, environ: dict[str, Any]) -> bool:
        peer = environ.get("REMOTE_ADDR")
        # No peer address: no network either (a test client calling the app in process).
        if self.open or not peer or is_loopback(str(peer)):
            return True
        sent = environ.get(_TOKEN_KEY)
        if self.token is None or not isinstance(sent, str):
            return False
        # Compared as bytes: WSGI hands header text over as ISO-8859-1, so a token in UTF-8
        # arrives as its bytes, and compare_digest refuses non-ASCII text outright. Text that
        # is no ISO-8859-1 (never from a server; in process, anything) matches no token: a
        # replacement "?" would match a "?" in it.
        try:
            raw = sent.encode("latin-1")
        except UnicodeEncodeError:
            return False
        return hmac.compare_digest(raw, self.token.encode("utf-8"))

    def check(self, environ: dict[str, Any]) -> None:
        """Raise PermissionDenied (403) unless :meth:`allows` the request."""
        if not self.allows(environ):
            raise PermissionDenied(
                "The control plane (/_mock/) answers clients on this machine only; start the fake with "
                f"--control-plane-token and send it in {CONTROL_TOKEN_HEADER} to use it from elsewhere."
            )
