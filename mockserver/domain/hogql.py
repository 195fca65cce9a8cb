"""Just enough HogQL to accept or refuse a batch export's ``hogql_query``.

PostHog parses the query with its full HogQL parser, resolves it against its database
schema, checks the shape batch exports allow and derives the export ``schema`` from it
(``products/batch_exports/backend/api/batch_export.py``). The fake parses the same
language subset a batch export query uses — ``SELECT`` expressions (fields, property
chains, constants, function calls, arithmetic, comparisons, ``AND``/``OR``/``NOT``,
``CASE``), ``FROM`` with joins, ``WHERE``, ``GROUP BY``, ``HAVING``, ``ORDER BY``,
``LIMIT``, ``UNION`` and ``WITH`` — and answers with PostHog's messages, in its order:

1. a query that does not parse: ``Failed to parse query``;
2. a field the events table does not have: ``Invalid HogQL query: Unable to resolve field: x``;
3. the batch-export shape checks (UNIONs, no FROM, CTEs, subqueries, other tables,
   JOINs, subqueries in SELECT expressions, fields batch exports cannot read).

The normalised query is printed the way PostHog's HogQL printer prints it: keywords
upper-cased, operators as function calls (``1 + 1`` → ``plus(1, 1)``, ``a = 'x'`` →
``equals(a, 'x')``, ``a AND b`` → ``and(a, b)``).

>>> compile_query("select toString(uuid) as uuid, 'test' as test, toInt(1+1) as n from events")["hogql_query"]
"SELECT toString(uuid) AS uuid, 'test' AS test, toInt(plus(1, 1)) AS n FROM events"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import ValidationError

__all__ = ["SUPPORTED_FIELDS", "compile_query"]

#: ``EXPORTABLE_EVENTS_MODEL_FIELDS``: what a batch export query may read.
SUPPORTED_FIELDS = (
    "created_at", "distinct_id", "elements_chain", "event", "person_id",
    "person_properties", "properties", "team_id", "timestamp", "uuid",
)  # fmt: skip
#: Fields HogQL's events table has but batch exports refuse to read.
UNEXPORTABLE_FIELDS = (
    "$session_id", "$window_id", "$group_0", "$group_1", "$group_2", "$group_3", "$group_4",
    "elements_chain_href", "elements_chain_texts", "elements_chain_ids", "elements_chain_elements",
)  # fmt: skip

_ATTR = "hogql_query"
_KEYWORDS = {
    "select", "from", "where", "prewhere", "group", "by", "having", "order", "limit", "offset", "as",
    "and", "or", "not", "in", "is", "null", "like", "ilike", "union", "intersect", "except", "all",
    "join", "left", "right", "inner", "outer", "full", "cross", "any", "asof", "semi", "anti", "on",
    "using", "with", "case", "when", "then", "else", "end", "asc", "desc", "distinct", "true",
    "false", "nulls", "first", "last", "settings", "sample", "array",
}  # fmt: skip
_JOIN_WORDS = {"join", "left", "right", "inner", "outer", "full", "cross", "any", "asof", "semi", "anti", "array"}
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.|'')*')|(?P<qid>\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`)"
    r"|(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<id>[A-Za-z_$][\w$]*)"
    r"|(?P<op><=|>=|!=|<>|==|=~|!~|\|\||[(),.+\-*/%=<>\[\]]))"
)
_COMPARE = {
    "=": "equals", "==": "equals", "!=": "notEquals", "<>": "notEquals", "<": "less", "<=": "lessOrEquals",
    ">": "greater", ">=": "greaterOrEquals", "=~": "match", "!~": "notMatch",
}  # fmt: skip
_ARITHMETIC = {"+": "plus", "-": "minus", "*": "multiply", "/": "divide", "%": "modulo"}
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


class _ParseError(Exception):
    """The query is not HogQL this module understands: ``Failed to parse query``."""


# -- syntax tree ------------------------------------------------------------------------


@dataclass
class _Node:
    kind: str  # const, field, star, call, distinct_call, op, array, access, alias, subquery, select, union
    value: Any = None
    args: list[Any] = field(default_factory=list)


@dataclass
class _Select:
    select: list[_Node]
    table: _Node | None = None  # a field (table name chain) or a subquery
    table_alias: str | None = None
    has_join: bool = False
    ctes: bool = False
    distinct: bool = False
    where: _Node | None = None
    group_by: list[_Node] = field(default_factory=list)
    having: _Node | None = None
    order_by: list[tuple[_Node, str]] = field(default_factory=list)
    limit: _Node | None = None
    offset: _Node | None = None


# -- tokens and parser ------------------------------------------------------------------


def _tokens(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    text = query.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip():
                raise _ParseError
            break
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind or "")
        if kind == "id" and value.lower() in _KEYWORDS:
            kind = "kw"
            value = value.lower()
        out.append((kind or "", value))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    # token helpers
    def peek(self, offset: int = 0) -> tuple[str, str]:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ("eof", "")

    def at(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind in ("kw", "op") and value in words

    def take(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += 1
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.take(*words):
            raise _ParseError

    def identifier(self) -> str:
        kind, value = self.peek()
        if kind == "id":
            self.pos += 1
            return value
        if kind == "qid":
            self.pos += 1
            return value[1:-1]
        raise _ParseError

    # queries
    def query(self) -> _Node:
        ctes = False
        if self.take("with"):
            ctes = True
            self._ctes()
        parts = [self.select()]
        while self.take("union", "intersect", "except"):
            self.take("all", "distinct")
            parts.append(self.select())
        parts[0].ctes = ctes
        if len(parts) > 1:
            return _Node("union", args=[_Node("select", p) for p in parts])
        return _Node("select", parts[0])

    def _ctes(self) -> None:
        while True:
            if self.peek()[0] in ("id", "qid") and self.peek(1) == ("kw", "as"):
                self.identifier()
                self.expect("as")
                self.expect("(")
                self.query()
                self.expect(")")
            else:
                self.expr()
                self.expect("as")
                self.identifier()
            if not self.take(","):
                return

    def select(self) -> _Select:
        if self.take("("):
            inner = self.query()
            self.expect(")")
            if inner.kind != "select":
                raise _ParseError
            parenthesised: _Select = inner.value  # a "select" node's value is its _Select
            return parenthesised
        self.expect("select")
        query = _Select(select=[], distinct=self.take("distinct"))
        query.select.append(self.column())
        while self.take(","):
            query.select.append(self.column())
        if self.take("from"):
            query.table, query.table_alias = self.table()
            while self.at(*_JOIN_WORDS) or self.at(","):
                self._join()
                query.has_join = True
        if self.take("prewhere"):
            self.expr()
        if self.take("where"):
            query.where = self.expr()
        if self.take("group"):
            self.expect("by")
            query.group_by = self.expr_list()
        if self.take("having"):
            query.having = self.expr()
        if self.take("order"):
            self.expect("by")
            query.order_by = [self._order_item()]
            while self.take(","):
                query.order_by.append(self._order_item())
        if self.take("limit"):
            query.limit = self.expr()
            if self.take(","):
                query.offset, query.limit = query.limit, self.expr()
            elif self.take("offset"):
                query.offset = self.expr()
        elif self.take("offset"):
            query.offset = self.expr()
        return query

    def table(self) -> tuple[_Node, str | None]:
        if self.at("(") and self.peek(1) in (("kw", "select"), ("kw", "with")):
            self.expect("(")
            table = _Node("subquery", self.query())
            self.expect(")")
        else:
            chain = [self.identifier()]
            while self.take("."):
                chain.append(self.identifier())
            table = _Node("field", chain)
        alias = None
        if self.take("as") or self.peek()[0] in ("id", "qid"):
            alias = self.identifier()
        return table, alias

    def _join(self) -> None:
        if not self.take(","):
            while self.take(*(_JOIN_WORDS - {"join"})):
                pass
            self.expect("join")
        self.table()
        if self.take("on"):
            self.expr()
        elif self.take("using"):
            self.expr_list()

    def _order_item(self) -> tuple[_Node, str]:
        expr = self.expr()
        direction = "DESC" if self.take("desc") else "ASC"
        self.take("asc")
        if self.take("nulls"):
            self.expect("first", "last")
        return expr, direction

    def column(self) -> _Node:
        expr = self.expr()
        if self.take("as"):
            kind, value = self.peek()
            if kind == "str":
                self.pos += 1
                return _Node("alias", _unquote(value), [expr])
            return _Node("alias", self.identifier(), [expr])
        if self.peek()[0] in ("id", "qid"):
            return _Node("alias", self.identifier(), [expr])
        return expr

    def expr_list(self) -> list[_Node]:
        items = [self.expr()]
        while self.take(","):
            items.append(self.expr())
        return items

    # expressions, lowest precedence first
    def expr(self) -> _Node:
        return self._or()

    def _or(self) -> _Node:
        items = [self._and()]
        while self.take("or"):
            items.append(self._and())
        return items[0] if len(items) == 1 else _Node("op", "or", items)

    def _and(self) -> _Node:
        items = [self._not()]
        while self.take("and"):
            items.append(self._not())
        return items[0] if len(items) == 1 else _Node("op", "and", items)

    def _not(self) -> _Node:
        if self.take("not"):
            return _Node("op", "not", [self._not()])
        return self._compare()

    def _compare(self) -> _Node:
        left = self._concat()
        kind, value = self.peek()
        if kind == "op" and value in _COMPARE:
            self.pos += 1
            return _Node("op", _COMPARE[value], [left, self._concat()])
        negated = False
        if self.at("not") and self.peek(1)[1] in ("like", "ilike", "in"):
            self.pos += 1
            negated = True
        if self.take("like", "ilike", "in"):
            word = self.tokens[self.pos - 1][1]
            name = {"like": "like", "ilike": "ilike", "in": "in"}[word]
            if negated:
                name = "not" + name[0].upper() + name[1:] if name != "ilike" else "notILike"
            return _Node("op", name, [left, self._concat()])
        if self.take("is"):
            op = "notEquals" if self.take("not") else "equals"
            self.expect("null")
            return _Node("op", op, [left, _Node("const", None)])
        return left

    def _concat(self) -> _Node:
        left = self._additive()
        items = [left]
        while self.take("||"):
            items.append(self._additive())
        return items[0] if len(items) == 1 else _Node("call", "concat", items)

    def _additive(self) -> _Node:
        left = self._multiplicative()
        while self.at("+", "-"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            left = _Node("op", _ARITHMETIC[op], [left, self._multiplicative()])
        return left

    def _multiplicative(self) -> _Node:
        left = self._unary()
        while self.at("*", "/", "%"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            left = _Node("op", _ARITHMETIC[op], [left, self._unary()])
        return left

    def _unary(self) -> _Node:
        if self.take("-"):
            operand = self._unary()
            if operand.kind == "const" and isinstance(operand.value, (int, float)):
                return _Node("const", -operand.value)
            return _Node("op", "minus", [_Node("const", 0), operand])
        return self._postfix()

    def _postfix(self) -> _Node:
        node = self._primary()
        while self.take("["):
            index = self.expr()
            self.expect("]")
            node = _Node("access", None, [node, index])
        return node

    def _primary(self) -> _Node:
        kind, value = self.peek()
        if kind == "num":
            self.pos += 1
            return _Node("const", float(value) if any(c in value for c in ".eE") else int(value))
        if kind == "str":
            self.pos += 1
            return _Node("const", _unquote(value))
        if kind == "kw" and value in ("true", "false", "null"):
            self.pos += 1
            return _Node("const", {"true": True, "false": False, "null": None}[value])
        if kind == "kw" and value == "case":
            self.pos += 1
            return self._case()
        if self.take("*"):
            return _Node("star")
        if self.take("("):
            if self.at("select", "with"):
                inner = self.query()
                self.expect(")")
                return _Node("subquery", inner)
            items = self.expr_list()
            self.expect(")")
            return items[0] if len(items) == 1 else _Node("call", "tuple", items)
        if self.take("["):
            items = [] if self.at("]") else self.expr_list()
            self.expect("]")
            return _Node("array", None, items)
        if kind in ("id", "qid"):
            name = self.identifier()
            if kind == "id" and self.take("("):
                distinct = self.take("distinct")
                args = [] if self.at(")") else self.expr_list()
                self.expect(")")
                return _Node("distinct_call" if distinct else "call", name, args)
            chain = [name]
            while self.take("."):
                chain.append(self.identifier())
            return _Node("field", chain)
        raise _ParseError

    def _case(self) -> _Node:
        args: list[_Node] = []
        while self.take("when"):
            args.append(self.expr())
            self.expect("then")
            args.append(self.expr())
        if not args:
            raise _ParseError
        args.append(self.expr() if self.take("else") else _Node("const", None))
        self.expect("end")
        return _Node("call", "if" if len(args) == 3 else "multiIf", args)


def _unquote(literal: str) -> str:
    body = literal[1:-1].replace("''", "'")
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(m.group(1), m.group(1)), body)


# -- printing (PostHog's HogQL printer) ---------------------------------------------------


def _identifier(name: str) -> str:
    if _IDENTIFIER.match(name) and name.lower() not in _KEYWORDS:
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\t", "\\t")
    return "'" + escaped.replace("\r", "\\r").replace("\0", "\\0") + "'"


def _print(node: _Node) -> str:
    kind = node.kind
    if kind == "const":
        value = node.value
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        return _string(value) if isinstance(value, str) else str(value)
    if kind == "field":
        return ".".join(_identifier(part) for part in node.value)
    if kind == "star":
        return "*"
    if kind in ("call", "op"):
        return f"{node.value}({', '.join(_print(a) for a in node.args)})"
    if kind == "distinct_call":
        return f"{node.value}(DISTINCT {', '.join(_print(a) for a in node.args)})"
    if kind == "array":
        return f"[{', '.join(_print(a) for a in node.args)}]"
    if kind == "access":
        return f"{_print(node.args[0])}[{_print(node.args[1])}]"
    if kind == "alias":
        return f"{_print(node.args[0])} AS {_identifier(node.value)}"
    if kind == "subquery":
        return f"({_print(node.value)})"
    if kind == "union":
        return " UNION ALL ".join(_print(part) for part in node.args)
    return _print_select(node.value)


def _print_select(query: _Select) -> str:
    text = "SELECT " + ("DISTINCT " if query.distinct else "") + ", ".join(_print(c) for c in query.select)
    if query.table is not None:
        text += " FROM " + _print(query.table)
        if query.table_alias:
            text += " AS " + _identifier(query.table_alias)
    if query.where is not None:
        text += " WHERE " + _print(query.where)
    if query.group_by:
        text += " GROUP BY " + ", ".join(_print(g) for g in query.group_by)
    if query.having is not None:
        text += " HAVING " + _print(query.having)
    if query.order_by:
        text += " ORDER BY " + ", ".join(f"{_print(e)} {d}" for e, d in query.order_by)
    if query.limit is not None:
        text += " LIMIT " + _print(query.limit)
    if query.offset is not None:
        text += " OFFSET " + _print(query.offset)
    return text


# -- checks -----------------------------------------------------------------------------


def _walk(node: Any) -> list[_Node]:
    """Every node of an expression, not descending into subqueries."""
    if not isinstance(node, _Node):
        return []
    out = [node]
    if node.kind not in ("subquery", "select", "union"):
        for arg in node.args:
            out.extend(_walk(arg))
    return out


def _select_fields(query: _Select, expressions: list[_Node]) -> list[str]:
    """Names of the events-table fields ``expressions`` read (the first name of each chain)."""
    aliases = {c.value for c in query.select if c.kind == "alias"}
    prefixes = {"events", *([query.table_alias] if query.table_alias else [])}
    names: list[str] = []
    for expr in expressions:
        for node in _walk(expr):
            if node.kind != "field":
                continue
            chain = list(node.value)
            if len(chain) > 1 and chain[0] in prefixes:
                chain = chain[1:]
            if len(chain) == 1 and chain[0] in aliases:
                continue
            names.append(chain[0])
    return names


def _clauses(query: _Select) -> list[_Node]:
    nodes = [*query.select, *query.group_by, *(e for e, _ in query.order_by)]
    return nodes + [n for n in (query.where, query.having, query.limit, query.offset) if n is not None]


def _resolve(node: _Node) -> None:
    """PostHog resolves every field against its schema before any batch-export check."""
    selects = [p.value for p in node.args] if node.kind == "union" else [node.value]
    for query in selects:
        if query.table is None or query.table.kind != "field" or query.table.value != ["events"] or query.has_join:
            continue
        for name in _select_fields(query, _clauses(query)):
            if name not in SUPPORTED_FIELDS and name not in UNEXPORTABLE_FIELDS:
                raise ValidationError(f"Invalid HogQL query: Unable to resolve field: {name}", attr=_ATTR)


def _check_shape(node: _Node) -> _Select:
    """``validate_hogql_query``: the shapes batch exports refuse, in PostHog's order."""
    if node.kind == "union":
        raise ValidationError("UNIONs are not supported", attr=_ATTR)
    query: _Select = node.value
    if query.table is None:
        raise ValidationError("Query must SELECT FROM events", attr=_ATTR)
    if query.ctes:
        raise ValidationError("CTEs are not supported", attr=_ATTR)
    if query.table.kind == "subquery":
        raise ValidationError("Subqueries are not supported", attr=_ATTR)
    if query.table.value != ["events"]:
        raise ValidationError("Query must only SELECT FROM events", attr=_ATTR)
    if query.has_join:
        raise ValidationError("JOINs are not supported", attr=_ATTR)
    for column in query.select:
        if any(n.kind == "subquery" for n in _walk(column)):
            raise ValidationError("Subqueries in SELECT expressions are not supported", attr=_ATTR)
    names = set(_select_fields(query, query.select))
    if any(n.kind == "star" for c in query.select for n in _walk(c)):
        names.update(UNEXPORTABLE_FIELDS)  # ``*`` expands to every field of the table
    unsupported = sorted(names - set(SUPPORTED_FIELDS))
    if unsupported:
        raise ValidationError(
            f"Batch exports cannot read these fields: {', '.join(unsupported)}. "
            f"Supported fields are: {', '.join(SUPPORTED_FIELDS)}.",
            attr=_ATTR,
        )
    return query


def _field_alias(column: _Node) -> tuple[_Node, str]:
    if column.kind == "alias":
        return column.args[0], column.value
    if column.kind == "field":
        return column, column.value[-1]
    if column.kind == "const" and isinstance(column.value, str):
        return column, column.value
    return column, _print(column)


def compile_query(query: str, *, named_columns: bool = False) -> dict[str, Any]:
    """Validate ``query`` and return the export ``schema``: ``{fields, values, hogql_query}``.

    ``fields`` holds each selected expression as HogQL with its alias; PostHog prints them
    as ClickHouse SQL with ``%(hogql_val_N)s`` placeholders filled from ``values``.
    ``named_columns`` (a ``hogql`` model's query): every column must be a field or have an
    alias, since it names a column of the destination (``_validate_select_columns_are_named``).

    >>> compile_query("SELECT count() FROM events", named_columns=True)["fields"]
    Traceback (most recent call last):
    ...
    mockserver.errors.ValidationError: Every column in the SELECT clause must be a field or have an alias (e.g. ...
    """
    try:
        return _compile(query, named_columns)
    except RecursionError:
        # Nested past what a recursive parser handles (PostHog's gives up too): a parse failure.
        raise ValidationError("Failed to parse query", attr=_ATTR) from None


def _compile(query: str, named_columns: bool = False) -> dict[str, Any]:
    try:
        parser = _Parser(_tokens(query))
        tree = parser.query()
        if parser.pos != len(parser.tokens):
            raise _ParseError
    except _ParseError:
        raise ValidationError("Failed to parse query", attr=_ATTR) from None
    _resolve(tree)
    parsed = _check_shape(tree)
    if named_columns and any(column.kind not in ("field", "alias") for column in parsed.select):
        raise ValidationError(
            "Every column in the SELECT clause must be a field or have an alias (e.g. `count() AS event_count`)",
            attr=_ATTR,
        )
    fields = []
    for column in parsed.select:
        expr, alias = _field_alias(column)
        fields.append({"expression": _print(expr), "alias": alias})
    return {"fields": fields, "values": {}, "hogql_query": _print(tree)}
