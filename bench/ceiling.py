"""The ceiling: a trivial WSGI endpoint on the very server ``python -m mockserver serve`` uses.

``--server granian`` serves it exactly as ``serve`` does (``mockserver.server.serve_granian``:
one forked worker, 32 threads, keep-alive); ``--server werkzeug`` uses werkzeug's threaded
``make_server`` with the fake's quiet request handler. The app reads the body and answers
``200 {}`` to any method and path. Whatever the fake does on top of this is its own cost.

    python bench/ceiling.py --port 8001 --server granian
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import make_server

from mockserver.server import QuietHandler, serve_granian


def trivial_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", choices=["granian", "werkzeug"], default="werkzeug")
    args = parser.parse_args()
    if args.server == "granian":
        serve_granian(trivial_app, args.host, args.port)
        return
    server = make_server(args.host, args.port, trivial_app, threaded=True, request_handler=QuietHandler)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
