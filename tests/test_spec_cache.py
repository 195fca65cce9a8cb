"""The packaged document is parsed once per edit: later starts read a JSON copy of the parse."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.http.spec import packaged_document, spec_path
from mockserver.http.spec_cache import cache_file, load_document


class CountingParser:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str) -> Any:
        self.calls += 1
        return yaml.safe_load(text)


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "openapi.yaml"
    path.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
    return path


def test_a_second_load_reads_the_copy_and_gives_the_same_document(document: Path) -> None:
    parse = CountingParser()
    first = load_document(document, parse, write=True)
    second = load_document(document, parse, write=True)
    assert parse.calls == 1
    assert second == first == {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}
    copy = cache_file(document, document.read_bytes())
    assert copy.parent == document.parent / "__pycache__"
    assert copy.stat().st_mode & 0o777 == 0o644  # readable by whoever reads the package


def test_an_edited_document_is_parsed_again_and_its_old_copy_dropped(document: Path) -> None:
    parse = CountingParser()
    load_document(document, parse, write=True)
    old_copy = cache_file(document, document.read_bytes())
    document.write_text(document.read_text().replace("version: '1'", "version: '2'"))
    assert load_document(document, parse, write=True)["info"]["version"] == "2"
    assert parse.calls == 2
    assert not old_copy.exists()
    assert cache_file(document, document.read_bytes()).exists()


def test_a_half_written_copy_is_ignored_and_replaced(document: Path) -> None:
    parse = CountingParser()
    load_document(document, parse, write=True)
    copy = cache_file(document, document.read_bytes())
    copy.write_bytes(copy.read_bytes()[:10])  # a process killed mid-write, before the rename existed
    assert load_document(document, parse, write=True)["paths"] == {}
    assert parse.calls == 2
    assert load_document(document, parse, write=True)["paths"] == {}
    assert parse.calls == 2


def test_nothing_is_written_where_python_writes_no_bytecode(document: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    parse = CountingParser()
    load_document(document, parse)
    load_document(document, parse)
    assert parse.calls == 2
    assert not (document.parent / "__pycache__").exists()


def test_where_no_copy_can_be_written_each_load_parses(document: Path) -> None:
    (document.parent / "__pycache__").write_text("a file where the folder would go")  # fails even for root
    parse = CountingParser()
    assert load_document(document, parse, write=True)["openapi"] == "3.0.3"
    assert load_document(document, parse, write=True)["openapi"] == "3.0.3"
    assert parse.calls == 2
    assert sorted(p.name for p in document.parent.iterdir()) == ["__pycache__", "openapi.yaml"]  # no temporary left


def test_what_json_cannot_say_is_never_copied(document: Path) -> None:
    document.write_text("responses:\n  200: {description: ok}\nwhen: 2026-01-01\n")
    parse = CountingParser()
    load_document(document, parse, write=True)
    load_document(document, parse, write=True)
    assert parse.calls == 2  # integer keys and dates would come back changed
    assert not list(document.parent.glob("__pycache__/*.json"))


def test_the_packaged_document_equals_a_fresh_parse_of_the_yaml() -> None:
    assert packaged_document() == yaml.safe_load(spec_path().read_text())
