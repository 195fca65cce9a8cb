"""Just enough HogQL to accept or refuse a batch export's ``hogql_query``.

PostHog parses the query with its full HogQL parser and derives the export ``schema``
from it. The fake accepts the shape batch exports allow, ``SELECT expr [AS alias], …
FROM events [WHERE …]``, refuses what ``products/batch_exports/backend/api/batch_export.py``
refuses (UNIONs, CTEs, JOINs, subqueries, other tables, unsupported event fields), and
renders the normalised query with keywords upper-cased and whitespace collapsed.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.errors import ValidationError

__all__ = ["SUPPORTED_FIELDS", "compile_query"]

SUPPORTED_FIELDS = (
    "created_at", "distinct_id", "elements_chain", "event", "person_id",
    "person_properties", "properties", "team_id", "timestamp", "uuid",
)  # fmt: skip

_KEYWORDS = {
    "select", "from", "where", "as", "and", "or", "not", "in", "is", "null", "like", "ilike",
    "case", "when", "then", "else", "end", "true", "false", "distinct", "between",
}  # fmt: skip
_TOKEN = re.compile(r"\s*(?:('(?:[^'\\]|\\.)*')|(\"[^\"]*\"|`[^`]*`)|([A-Za-z_$][\w$]*)|(\d+(?:\.\d+)?)|(.))")


def _tokens(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    query = query.strip().rstrip(";")
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        string, quoted, ident, number, other = m.groups()
        if string is not None:
            out.append(("str", string))
        elif quoted is not None:
            out.append(("ident", quoted[1:-1]))
        elif ident is not None:
            out.append(("kw" if ident.lower() in _KEYWORDS else "ident", ident))
        elif number is not None:
            out.append(("num", number))
        elif other is not None and other.strip():
            out.append(("op", other))
    return out


def _render(tokens: list[tuple[str, str]]) -> str:
    text = ""
    for i, (kind, value) in enumerate(tokens):
        word = value.upper() if kind == "kw" else value
        prev = tokens[i - 1][1] if i else ""
        if not text or value in (",", ")", ".") or prev in ("(", ".") or (value == "(" and tokens[i - 1][0] == "ident"):
            text += word
        else:
            text += " " + word
    return text


def compile_query(query: str) -> dict[str, Any]:
    """Validate ``query`` and return the export ``schema`` PostHog would store."""
    attr = "hogql_query"
    tokens = _tokens(query)
    lowered = [v.lower() for k, v in tokens if k in ("kw", "ident")]
    if not tokens or tokens[0][1].lower() != "select":
        if tokens and tokens[0][1].lower() == "with":
            raise ValidationError("CTEs are not supported", attr=attr)
        raise ValidationError("Failed to parse query", attr=attr)
    if "union" in lowered:
        raise ValidationError("UNIONs are not supported", attr=attr)
    if "join" in lowered:
        raise ValidationError("JOINs are not supported", attr=attr)
    depth, from_at = 0, None
    for i, (kind, value) in enumerate(tokens):
        if value == "(":
            depth += 1
            if i + 1 < len(tokens) and tokens[i + 1][1].lower() == "select":
                raise ValidationError("Subqueries are not supported", attr=attr)
        elif value == ")":
            depth -= 1
        elif kind == "kw" and value.lower() == "from" and depth == 0 and from_at is None:
            from_at = i
    if from_at is None or from_at + 1 >= len(tokens) or depth != 0:
        raise ValidationError("Failed to parse query", attr=attr)
    if tokens[from_at + 1][1] != "events":
        raise ValidationError("Query must SELECT FROM events", attr=attr)
    if from_at + 2 < len(tokens) and tokens[from_at + 2][1].lower() != "where":
        raise ValidationError("Query must only SELECT FROM events", attr=attr)
    select_tokens = tokens[1:from_at]
    if not select_tokens:
        raise ValidationError("Failed to parse query", attr=attr)
    _check_fields(tokens, attr)
    fields = []
    for expr in _split_commas(select_tokens):
        alias = None
        if len(expr) >= 3 and expr[-2][1].lower() == "as":
            alias, expr = expr[-1][1], expr[:-2]
        if not expr:
            raise ValidationError("Failed to parse query", attr=attr)
        rendered = _render(expr)
        fields.append({"expression": rendered, "alias": alias or expr[-1][1]})
    return {"fields": fields, "values": {}, "hogql_query": _render(tokens)}


def _split_commas(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    parts: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for token in tokens:
        if token[1] == "(":
            depth += 1
        elif token[1] == ")":
            depth -= 1
        if token[1] == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _check_fields(tokens: list[tuple[str, str]], attr: str) -> None:
    """Bare identifiers that are neither functions, aliases nor property chains must be event fields."""
    aliases = {tokens[i + 1][1] for i, (k, v) in enumerate(tokens[:-1]) if k == "kw" and v.lower() == "as"}
    bad: list[str] = []
    for i, (kind, value) in enumerate(tokens):
        if kind != "ident" or value == "events" or value in aliases:
            continue
        after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        before = tokens[i - 1][1] if i else ""
        if after == "(" or before == ".":
            continue
        if value not in SUPPORTED_FIELDS and value not in bad:
            bad.append(value)
    if bad:
        raise ValidationError(
            f"Batch exports cannot read these fields: {', '.join(bad)}. "
            f"Supported fields are: {', '.join(SUPPORTED_FIELDS)}.",
            attr=attr,
        )
