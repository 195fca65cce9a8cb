"""The packaged OpenAPI document, parsed once per edit of it rather than once per start.

Parsing the YAML is the slowest step of a start-up (about 35 ms: libyaml scans, but
PyYAML builds every node in Python), while reading the same document as JSON takes about
1 ms. So the first process to parse it leaves a JSON copy where Python leaves its bytecode
(``__pycache__`` beside the file, or under ``sys.pycache_prefix``), named by a digest of
the YAML's bytes: an edited document never meets a copy of its older self, and every
later start reads the copy.

The copy is a cache, never a second source of truth: it is written only where the JSON
reads back equal to what the YAML gave, written whole or not at all (a temporary file,
then a rename), and anything wrong with it (missing, unreadable, half-written by a
process killed mid-write) means the YAML is parsed again. Where Python may not write
bytecode (``PYTHONDONTWRITEBYTECODE``, a read-only install) nothing is written either.

>>> import pathlib, shutil, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "doc.yaml").write_text("openapi: 3.0.3\\npaths: {}\\n")
>>> parses = []
>>> def parse(text):
...     parses.append(text)
...     return {"openapi": "3.0.3", "paths": {}}
>>> load_document(folder / "doc.yaml", parse, write=True)
{'openapi': '3.0.3', 'paths': {}}
>>> load_document(folder / "doc.yaml", parse, write=True)  # from the copy: not parsed again
{'openapi': '3.0.3', 'paths': {}}
>>> len(parses)
1
>>> shutil.rmtree(folder)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from importlib.util import cache_from_source
from pathlib import Path
from typing import Any

import orjson

__all__ = ["cache_file", "load_document"]

#: Hex digits of the YAML's SHA-256 in the copy's name (a collision would need 2**32 edits).
_DIGEST_CHARS = 16


def cache_file(source: Path, data: bytes) -> Path:
    """Where the JSON copy of ``source`` (whose bytes are ``data``) lives.

    Beside Python's bytecode for a module of that name: ``spec/__pycache__/openapi.<digest>.json``.
    """
    digest = hashlib.sha256(data).hexdigest()[:_DIGEST_CHARS]
    bytecode = Path(cache_from_source(str(source.with_suffix(".py"))))
    return bytecode.with_name(f"{source.stem}.{digest}.json")


def load_document(source: Path, parse: Callable[[str], Any], *, write: bool | None = None) -> Any:
    """``parse(text of source)``, or the JSON copy of an earlier parse of the same bytes.

    ``write``: whether to leave a copy for the next process (default: where Python writes
    bytecode, i.e. unless ``sys.dont_write_bytecode``).
    """
    data = source.read_bytes()
    copy = cache_file(source, data)
    with contextlib.suppress(OSError, orjson.JSONDecodeError):
        return orjson.loads(copy.read_bytes())
    document = parse(data.decode("utf-8"))
    if write if write is not None else not sys.dont_write_bytecode:
        _store(copy, document)
    return document


def _store(copy: Path, document: Any) -> None:
    """Write the copy whole (or not at all) and drop copies of earlier versions of the file."""
    try:
        encoded = orjson.dumps(document)
    except TypeError:  # a value JSON has no word for (a YAML date): no copy, parse each time
        return
    if orjson.loads(encoded) != document:  # e.g. integer keys, which JSON makes strings
        return
    stem = copy.name.split(".", 1)[0]
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=copy.parent, prefix=f".{stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(encoded)
            os.chmod(temporary, 0o644)  # as readable as the bytecode beside it (mkstemp makes it 0600)
            os.replace(temporary, copy)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        for older in copy.parent.glob(f"{stem}.*.json"):
            if older != copy:
                with contextlib.suppress(OSError):
                    older.unlink()
    except OSError:  # a read-only install: every start parses, as before
        return
