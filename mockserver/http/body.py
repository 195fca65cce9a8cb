"""Reading a request body from the client, bounded in size and time, before any lock.

A client decides how fast its body arrives. Reading it is the only step of a request
that waits on the client, so :class:`~mockserver.http.app.MockServer` does it first,
here, before it takes the store's lock: a client that announces ten bytes and sends
one holds up its own request only.

Two bounds apply:

- **size**: a body over ``max_bytes`` is refused with 413 before it is read (when its
  ``Content-Length`` says so) or as soon as it goes past the limit (chunked bodies);
- **time**: a body that has not fully arrived within ``timeout`` seconds is refused
  with 408. werkzeug's server gives its sockets a timeout of its own, so a read there
  returns or fails by itself. granian has none (a read waits until the client sends
  or goes away, and waits for every byte asked for): its body is read on the request's
  own thread (``environ[READ_INLINE]``, set by ``serve_granian``), and a client that
  stops or trickles holds that one thread until it disconnects. It must stay on that
  thread: granian stops serving everyone when a request is answered while another
  thread still waits on its body. Any other server gets the read done by a
  :class:`BodyReaders` thread that the request stops waiting for at the deadline.

Once read, the body replaces ``wsgi.input`` (a :class:`io.BytesIO`), so everything
after this step reads memory, never the socket.

>>> import io
>>> environ = {"CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"{}")}
>>> read_body(environ, BodyLimits())
b'{}'
>>> read_body({"CONTENT_LENGTH": "99", "wsgi.input": io.BytesIO(b"")}, BodyLimits(max_bytes=10))
Traceback (most recent call last):
...
mockserver.errors.PayloadTooLarge: Request body exceeds the limit of 10 bytes.
"""

from __future__ import annotations

import codecs
import encodings
import encodings.aliases
import io
import pkgutil
import queue
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from mockserver.clock import wall_seconds
from mockserver.errors import ParseError, PayloadTooLarge, RequestTimeout

__all__ = [
    "as_utf8_json",
    "DEFAULT_MAX_BODY_BYTES",
    "BodyReaders",
    "DEFAULT_READ_TIMEOUT",
    "MAX_JSON_DEPTH",
    "READ_INLINE",
    "BodyLimits",
    "json_too_deep",
    "read_body",
]

#: Bodies up to 10 MiB: far above any batch-exports request (a Snowflake private key
#: is a few KiB), far below what would hurt the process.
DEFAULT_MAX_BODY_BYTES = 10 << 20
#: Seconds a client may take to send its whole body.
DEFAULT_READ_TIMEOUT = 10.0
_CHUNK = 64 << 10
#: An environ key a server adapter sets when bodies must be read on the request's own
#: thread (granian: see the module's docstring).
READ_INLINE = "mockserver.read_inline"


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """How large a body may be and how long it may take to arrive."""

    max_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout: float = DEFAULT_READ_TIMEOUT
    #: Monotonic seconds (injected so that tests need not wait).
    monotonic: Callable[[], float] = wall_seconds


def read_body(environ: dict[str, Any], limits: BodyLimits, readers: BodyReaders | None = None) -> bytes:
    """The whole body of the request in ``environ``; ``wsgi.input`` then reads it from memory.

    ``readers``: the threads that read from a server without a read timeout of its own
    (when ``None``, a pool of one thread that ends after the read).

    Raises:
        PayloadTooLarge: the body is (or announces it is) over ``limits.max_bytes``.
        RequestTimeout: the body did not arrive within ``limits.timeout`` seconds.
        ParseError: the ``Content-Length`` header is not a number, or the client sent
            less than it announced and went away.
    """
    stream = environ.get("wsgi.input")
    raw_length = environ.get("CONTENT_LENGTH") or ""
    # Without Content-Length, a request has a body only if it says it is chunked (RFC 9112,
    # section 6.3). ``wsgi.input_terminated`` alone says nothing: granian sets it on every request,
    # GETs included, and reading a body that is not there would wait on a helper thread.
    chunked = (
        not raw_length
        and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        and bool(environ.get("wsgi.input_terminated"))
    )
    if stream is None or (not raw_length and not chunked):
        return b""
    if chunked:
        length = None
    else:
        # Digits only (RFC 9110): ``int()`` would also read "+5", "1_0" or two headers joined
        # by a comma, and a server in front could read those otherwise.
        digits = raw_length.strip(" \t")
        if not (digits.isascii() and digits.isdigit()):
            raise ParseError(f'Invalid Content-Length header "{raw_length[:32]}".')
        length = int(digits)
        if length == 0:
            return b""
        if length > limits.max_bytes:
            raise PayloadTooLarge(limits.max_bytes)
    if isinstance(stream, io.BytesIO) or "werkzeug.socket" in environ or environ.get(READ_INLINE):
        # In memory, a socket that times out on its own (werkzeug's server), or a server
        # whose body must not be read elsewhere (granian).
        data = _read(stream, length, limits, limits.monotonic() + limits.timeout)
    else:
        data = _read_on_helper(stream, length, limits, readers)
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("wsgi.input_terminated", None)
    return data


def _read(stream: Any, length: int | None, limits: BodyLimits, deadline: float) -> bytes:
    """Read ``length`` bytes (or to the end, for a chunked body), checking both limits per chunk."""
    parts: list[bytes] = []
    received = 0
    # ``read1`` (werkzeug's buffered socket) returns whatever has arrived, so the deadline is
    # checked as a trickle comes in; granian's input has only ``read``, which waits for all.
    read = getattr(stream, "read1", None) or stream.read
    while length is None or received < length:
        want = _CHUNK if length is None else min(_CHUNK, length - received)
        try:
            part = read(want)
        except TimeoutError:
            raise RequestTimeout(limits.timeout) from None
        except OSError:
            part = b""  # the client went away
        if not part:
            break
        parts.append(part)
        received += len(part)
        if received > limits.max_bytes:
            raise PayloadTooLarge(limits.max_bytes)
        if limits.monotonic() > deadline and (length is None or received < length):
            raise RequestTimeout(limits.timeout)
    if length is not None and received < length:
        raise ParseError(f"The request body ended after {received} of the {length} bytes announced.")
    return b"".join(parts)


def _read_on_helper(stream: Any, length: int | None, limits: BodyLimits, readers: BodyReaders | None) -> bytes:
    """Read on a daemon thread and stop waiting at the deadline.

    A read abandoned at the deadline ends when the client goes away or the server closes
    the connection, which it does after an answer that left the body unread.
    """
    future: Future[bytes] = Future()

    def run() -> None:
        try:
            future.set_result(_read(stream, length, limits, float("inf")))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
            future.set_exception(exc)

    (readers or BodyReaders(idle_seconds=0)).run(run)
    try:
        return future.result(timeout=limits.timeout)
    except FutureTimeout:
        raise RequestTimeout(limits.timeout) from None


class BodyReaders:
    """Daemon threads that read request bodies for requests that must stop waiting at a deadline.

    Starting a thread per body costs about three times as much as handing the read to
    one that waits (66 µs against 21 µs, measured on one core): a third of a served
    create. A thread that finished a read waits ``idle_seconds`` for the next, then ends.
    There is no upper bound on their number: a thread stuck on a stalled client stays
    until that connection closes, and a new one is started whenever none is free, so a
    stalled client never makes another request wait.

    >>> readers = BodyReaders()
    >>> done = threading.Event()
    >>> readers.run(done.set)
    >>> done.wait(5)
    True
    """

    def __init__(self, idle_seconds: float = 30.0) -> None:
        self.idle_seconds = idle_seconds
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        #: Threads waiting for a job that no :meth:`run` has counted on yet.
        self._free = 0
        #: Threads alive (reading, or waiting for the next body).
        self.threads = 0

    def run(self, job: Callable[[], None]) -> None:
        """Run ``job`` on a free thread, or on a new one if none is free.

        Only a job promised to a waiting thread goes through the queue; a new thread gets
        its first job handed over, so nothing is ever queued for a thread that failed to
        start. Where no thread can be started at all (the process is out of them), the job
        runs on the caller's thread: the request is answered, only without its deadline.
        """
        with self._lock:
            if self._free:
                self._free -= 1  # that thread is spoken for: this job is its
                self._jobs.put(job)
                return
            self.threads += 1
        # Handed over in a box the thread empties: a Thread keeps its ``args`` until it ends.
        first = [job]
        try:
            threading.Thread(target=self._work, args=(first,), name="mockserver-body", daemon=True).start()
        except RuntimeError:  # "can't start new thread"
            with self._lock:
                self.threads -= 1
            job()

    def _work(self, first: list[Callable[[], None]]) -> None:
        job: Callable[[], None] | None = first.pop()
        while True:
            if job is not None:
                job()  # never raises: the job hands any exception to its request
                # Forget it before waiting: it holds the body read, up to the size limit.
                job = None
                with self._lock:
                    self._free += 1
            try:
                job = self._jobs.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._free > 0:  # nobody counts on this thread: end it
                        self._free -= 1
                        self.threads -= 1
                        return
                # A job was promised to a waiting thread: wait for it.


#: How deep a JSON body may nest. PostHog's parser gives up near Python's recursion limit
#: (about a thousand levels) with a server error; the fake refuses far earlier, with a
#: 400, so that everything it stores can be rendered back inside any response (orjson
#: writes at most 255 levels, and a stored config sits a few levels down in a listing).
MAX_JSON_DEPTH = 100

#: A JSON string (escapes included) or a bracket: the tokens that decide nesting depth. A
#: string left open runs to the end of the body: were the closing quote required, every
#: escaped quote in an unclosed string would start a new attempt to the end (quadratic time
#: on a body of ``\"`` pairs, seconds for a few dozen kilobytes, under the store's lock).
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]')
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")


def json_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``data`` nests deeper than ``limit``, decided without parsing it.

    Brackets inside strings do not count. Counting the brackets settles almost every
    body at C speed; only a body with more brackets than ``limit`` is scanned.

    >>> json_too_deep(b'{"a": [[1]], "b": "[[[[[["}', limit=3)
    False
    >>> json_too_deep(b'[[[[1]]]]', limit=3)
    True
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(data):
        token = data[match.start()]
        if token in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif token in _CLOSE:
            depth -= 1
    return False


def as_utf8_json(body: bytes, charset: str | None) -> bytes:
    """A JSON body in the ``charset`` its ``Content-Type`` names, as UTF-8 (the body itself when it is UTF-8 already).

    DRF's ``JSONParser`` decodes a body by the request's encoding: the charset named, when
    Python knows it (Django drops one it does not), else UTF-8. ``café`` in Latin-1 is read
    when the header says ``charset=latin-1``, and UTF-16 bytes are a parse error when it names
    none. Everything after this step (validation, the journal's redaction of secrets) reads
    UTF-8 only.

    >>> as_utf8_json('{"name": "café"}'.encode("latin-1"), "latin-1")
    b'{"name": "caf\\xc3\\xa9"}'
    >>> as_utf8_json(b'{"name": "x"}', "no-such-charset")  # as Django: read as UTF-8
    b'{"name": "x"}'
    """
    codec = _known_codec(charset)
    if codec is None or codec == "utf-8":
        return body
    try:
        return body.decode(codec).encode("utf-8")
    except UnicodeError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None


def _known_codec(charset: str | None) -> str | None:
    """The codec ``charset`` names, or ``None`` when Python has none of that name.

    Only names Python ships are looked up: ``codecs.lookup`` remembers every name it
    failed to find, and a client could send a new one with every request. Every codec taken
    decodes in time linear in the body.

    >>> _known_codec("Latin-1"), _known_codec("punycode"), _known_codec("base64")
    ('iso8859-1', None, None)
    """
    if not charset:
        return None
    name = encodings.normalize_encoding(charset.strip().lower())
    name = encodings.aliases.aliases.get(name, name)
    if name not in _CODEC_MODULES or name in _SLOW_CODECS:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:  # shipped but not for this platform (mbcs)
        return None
    # base64, zlib and the like turn bytes into bytes: no charset a text body can be in.
    return info.name if getattr(info, "_is_text_encoding", True) else None


#: Codecs whose decoding time grows faster than the text: Punycode's digits (IDNA uses them)
#: cost quadratic time, 15 s for 400 KB. No JSON body comes in them; read as UTF-8 instead.
_SLOW_CODECS = frozenset({"punycode", "idna"})
#: The codecs of the standard library's ``encodings`` package, by module name.
_CODEC_MODULES = frozenset(module.name for module in pkgutil.iter_modules(encodings.__path__))
