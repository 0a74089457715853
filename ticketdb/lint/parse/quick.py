"""A fast path for sqlglot on the simple DML that fills stored-routine bodies.

``ticketdb lint`` hands every statement of a routine body to sqlglot's MySQL dialect, and that
is most of its time on routine-heavy code. :func:`quick_parse` builds the *same* tree (the same
classes, args in the same order, ``meta`` start/end and comments on the same nodes) straight from
the tokens the linter already has, for the common statement shapes, about 4-5x faster, and
returns None for anything else, so that the caller asks sqlglot.

Handled: SELECT [DISTINCT] … [FROM tables and joins (ON/USING)] [WHERE] [GROUP BY] [HAVING]
[ORDER BY] [LIMIT/OFFSET] [FOR UPDATE/SHARE, LOCK IN SHARE MODE]; UPDATE (with joins) … SET …
[WHERE] [ORDER BY] [LIMIT]; DELETE FROM …; INSERT INTO t [(cols)] VALUES …/SELECT … [ON
DUPLICATE KEY UPDATE]; SET var/NEW.col/@var = …. Expressions: AND/OR (&&, ||), NOT, comparisons
(<=> too), IS [NOT] NULL/TRUE/FALSE, [NOT] IN/LIKE/BETWEEN, + - * / DIV MOD %, unary minus,
parentheses, numbers, strings, NULL/TRUE/FALSE, names, @vars, ? placeholders, function calls
(sqlglot's builders, Anonymous otherwise; IF(), CEIL/FLOOR, no-paren CURRENT_DATE & co.), CASE,
INTERVAL n UNIT, subqueries, EXISTS (SELECT …). It gives up on anything else, at the first token
it does not know: comments, backslash escapes, keywords used as names (sqlglot upper-cases or
types them), CAST/CONVERT and the other special function parsers, windows, DISTINCT in calls,
COLLATE, bit operators, :=, hex/bit/national literals, string aliases, UNION, WITH, ….

Each method mirrors the sqlglot 30.30 parser method it is named after (``_parse_…``), quirks
included (sqlglot is pinned: a new version needs the differential test run again, and its
findings fixed here). Correctness is proven by tests/lint/test_quick_parse.py, which compares
with sqlglot on every unit of the repository's SQL, the benchmark's routines and generated
statements.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.tokens import TokenType

from ticketdb.sqlscript import Token

#: TokenType's members as plain class attributes: reading an Enum member costs 3x more
T = type("T", (), {m.name: m for m in TokenType})
_DIALECT = MySQL()
_P = MySQL.Parser
_KEYWORDS = MySQL.Tokenizer.KEYWORDS
_WORD_KW = {k: v for k, v in _KEYWORDS.items() if k.replace("_", "").isalnum()}
#: first words of two-word keywords (``ORDER BY``): only ORDER/GROUP BY and LOCK are handled
_MULTI = {k.split(" ")[0] for k in _KEYWORDS if " " in k}
#: operators made of punctuation, and comment starts: the longest one wins, as in sqlglot
_PUNCT_KW = {k for k in _KEYWORDS if not k[0].isalnum() and k[0] != "_"} | {"--", "/*", "#"}
_PUNCT_PAIRS = {k[:2] for k in _PUNCT_KW if len(k) > 1}
_OPERATORS = {k: _KEYWORDS[k] for k in ("<=", ">=", "<>", "!=", "<=>", "&&", "||")}
_SINGLE = {c: MySQL.Tokenizer.SINGLE_TOKENS[c] for c in "(),.*/%+-=<>@?"}

_IDENT = (T.VAR, T.IDENTIFIER)
_COLUMN_OPS = frozenset(_P.COLUMN_OPERATORS) | frozenset(_P.COLUMN_POSTFIX_TOKENS)
_TABLE_TERMINATORS = frozenset(_P.TABLE_TERMINATORS)
_TABLE_POSTFIX = frozenset(_P.TABLE_POSTFIX_TOKENS)
_TABLE_ALIAS = frozenset(_P.TABLE_ALIAS_TOKENS)
_UPDATE_ALIAS = frozenset(_P.UPDATE_ALIAS_TOKENS)
_ALIAS_TOKENS = frozenset(_P.ALIAS_TOKENS)
_FUNC_TOKENS = frozenset(_P.FUNC_TOKENS)
_TYPE_TOKENS = frozenset(_P.TYPE_TOKENS)
_RANGE = frozenset(_P.RANGE_PARSERS)
_RESERVED = frozenset(_P.RESERVED_TOKENS)
_MODIFIERS = frozenset(_P.QUERY_MODIFIER_PARSERS)
_TEXT_EXCLUDED = frozenset(_P.TEXT_MATCH_EXCLUDED_TOKENS)
_EQ_TYPES = tuple(_P.EQUALITY.values())
_CMP_TYPES = tuple(_P.COMPARISON.values())
_IS_LIKE = (exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ)
_EQUALITY = {T.EQ: exp.EQ, T.NEQ: exp.NEQ, T.NULLSAFE_EQ: exp.NullSafeEQ}
_COMPARISON = {T.GT: exp.GT, T.GTE: exp.GTE, T.LT: exp.LT, T.LTE: exp.LTE}
_FACTOR = {T.STAR: exp.Mul, T.SLASH: exp.Div, T.MOD: exp.Mod, T.DIV: exp.IntDiv}
_PRIMARY = frozenset((T.STRING, T.NUMBER, T.NULL, T.TRUE, T.FALSE, T.STAR))
_JOIN_START = frozenset(_P.JOIN_METHODS) | frozenset(_P.JOIN_SIDES) | frozenset(_P.JOIN_KINDS)
_JOIN_START |= {T.JOIN, T.COMMA}
_SET_PREFIXES = {k.split(" ")[0] for k in _P.SET_PARSERS}
_NO_PAREN_PARSERS = frozenset(_P.NO_PAREN_FUNCTION_PARSERS)
_AFTER_FUNCTION = {"WITHIN", "FILTER", "IGNORE", "RESPECT", "PER", "OVER", "KEEP"}
#: the token types of those words, and of SELECT's modifiers (a cheap test before the text's)
_AFTER_FUNCTION_TYPES = {_WORD_KW.get(w, T.VAR) for w in _AFTER_FUNCTION}
_OPERATION_MODIFIER_TYPES = {_WORD_KW.get(w, T.VAR) for w in _P.OPERATION_MODIFIERS}
_STAR_WORDS = {"COLUMNS", "ILIKE", "EXCEPT", "EXCLUDE", "REPLACE", "RENAME"}
_VERSION_AFTER_FOR = {"SYSTEM_TIME", "SYSTEM", "TIMESTAMP", "VERSION"}
_OR = frozenset((T.OR, T.DPIPE))
_IS_PREDICATE = frozenset(_P.IS_PREDICATE_TOKENS)
_AND = frozenset((T.AND, T.DAMP))
_LEAVES = frozenset((T.VAR, T.IDENTIFIER, T.NUMBER, T.STRING, T.NULL, T.TRUE, T.FALSE))
#: tokens that no expression level takes (they end an expression) …
_ENDS = frozenset(
    (T.COMMA, T.R_PAREN, T.SENTINEL, T.FROM, T.WHERE, T.THEN, T.ELSE, T.END, T.WHEN, T.ASC,
     T.DESC, T.ORDER_BY, T.GROUP_BY, T.HAVING, T.LIMIT, T.SET, T.ON, T.ALIAS, T.JOIN)
)  # fmt: skip
#: … and those that only the levels above the bitwise one take
_BITWISE_ENDS = (
    _ENDS
    | _RANGE
    | _OR
    | _AND
    | {T.XOR, T.EQ, T.NEQ, T.NULLSAFE_EQ, T.GTE, T.LTE, T.NOT, T.ISNULL, T.NOTNULL, T.ESCAPE}
    | {T.GT, T.LT}  # (but << and >>: bitwise() looks)
)
_COMPARISON_ENDS = (
    _ENDS | _OR | _AND | {T.XOR, T.EQ, T.NEQ, T.NULLSAFE_EQ, T.IS, T.ISNULL, T.NOTNULL}
)
#: the args sqlglot gives these statements, in its order (the fast path fills the None ones)
_DELETE = dict.fromkeys("hint tables this using cluster where returning order limit".split())
_DELETE.update(using=False, cluster=False)
_INSERT = dict.fromkeys(
    "hint is_function this stored by_name exists where using partition settings default"
    " expression conflict returning overwrite alternative ignore source".split(),
    False,
)
_INSERT.update(hint=None, where=None, using=None, returning=None, alternative=None)
_FIRST_WORDS = {"SELECT", "UPDATE", "DELETE", "INSERT", "SET"}
_STATEMENT_STARTS = frozenset(_P.STATEMENT_PARSERS) | frozenset(MySQL.Tokenizer.COMMANDS)


class _Bail(Exception):
    """The statement is outside the supported subset: sqlglot decides."""


def quick_parse(sql: str, tokens: Sequence[Token], base: int) -> exp.Expression | None:
    """sqlglot's MySQL tree for ``sql`` (what ``MySQL().parse(sql)[0]`` returns, node for node,
    ``meta`` start/end included) when the statement is in the supported subset, else None.

    ``tokens``: the significant tokens of all of ``sql`` (no whitespace or comments), with
    ``offset - base`` the index of each in ``sql``. Never raises."""
    if not tokens or tokens[0][1].upper() not in _FIRST_WORDS:
        return None  # DDL, CALL, …: not even a look
    try:
        lexed = _lex(sql, tokens, base)
        if lexed is None:
            return None
        return _Parser(*lexed).statement()
    except (_Bail, RecursionError):
        return None
    except Exception:  # an unexpected shape: sqlglot decides (and reports)
        if _RAISE:
            raise
        return None


#: tests set it to see the exceptions quick_parse swallows (a builder's, or its own bugs)
_RAISE = False


def _lex(
    sql: str, tokens: Sequence[Token], base: int
) -> tuple[list[TokenType], list[str], list[int], list[int], bool] | None:
    """sqlglot's tokens for ``sql`` from the linter's: types, texts, starts, inclusive ends.
    None where the two lexers could disagree (comments, escapes, odd numbers, hints)."""
    if ("#" in sql or "--" in sql or "/*" in sql or ";" in sql) and _has_gap(sql, tokens, base):
        return None
    ty: list[TokenType] = []
    tx: list[str] = []
    st: list[int] = []
    en: list[int] = []
    add_type, add_text, add_start, add_end = ty.append, tx.append, st.append, en.append
    words = _WORDS
    special = False
    n = len(tokens)
    k = 0
    while k < n:
        tok = tokens[k]
        kind, text, offset = tok[0], tok[1], tok[2] - base
        end = offset + len(text) - 1
        k += 1
        if kind == "word":
            known = words.get(text)
            if known is None:
                known = words[text] = _word(text)
                if len(words) > 50_000:
                    words.clear()
            if known[1]:  # a name or a keyword
                add_type(known[0])
                text = known[1]
            elif known is _NUMBER:
                nxt = tokens[k] if k < n else None
                if nxt is not None and nxt[1] == "." and nxt[2] - base == end + 1:
                    frac = tokens[k + 1] if k + 1 < n else None
                    if (
                        frac is None
                        or frac[2] - base != end + 2
                        or (words.get(frac[1]) or _word(frac[1])) is not _NUMBER
                    ):
                        return None  # 1. and 1.e3: sqlglot's own number rules
                    text = text + "." + frac[1]
                    end += 1 + len(frac[1])
                    k += 2
                add_type(T.NUMBER)
            elif known is _SPECIAL:
                nxt = tokens[k] if k < n else None
                upper = text.upper()
                second = nxt[1].upper() if nxt is not None and nxt[0] == "word" else ""
                if upper in ("ORDER", "GROUP") and second == "BY":
                    add_type(T.ORDER_BY if upper == "ORDER" else T.GROUP_BY)
                    text, end = upper + " BY", nxt[2] - base + 1
                    k += 1
                elif upper == "LOCK" and second != "TABLES":
                    add_type(T.LOCK)
                elif upper == "USER" and not (nxt is not None and nxt[1] == "-"):
                    add_type(T.VAR)  # not USER-DEFINED
                else:
                    return None
            elif known is _NO_PAREN_VAR:
                add_type(T.VAR)  # IF: sqlglot parses it as a function (flagged for the parser)
                special = True
            else:
                return None
        elif kind == "punct":
            size = 1
            nxt = tokens[k] if k < n else None
            if (
                nxt is not None
                and nxt[0] == "punct"
                and nxt[2] - base == offset + 1
                and text + nxt[1] in _PUNCT_PAIRS
            ):
                run = text
                for more in tokens[k : k + 4]:  # operators have up to five characters
                    if more[0] != "punct" or more[2] - base != offset + len(run):
                        break
                    run += more[1]
                # the longest operator wins, as in sqlglot's keyword trie
                size = max((s for s in range(2, len(run) + 1) if run[:s] in _PUNCT_KW), default=1)
            if size == 1:
                tt = _SINGLE.get(text)
            else:
                text = run[:size]
                tt = _OPERATORS.get(text)  # not <=>, ->, :=, --, /*, @@ …
                end = offset + size - 1
                k += size - 1
            if tt is None:
                return None
            add_type(tt)
        elif kind == "string":
            prev = tokens[k - 2] if k > 1 else None
            if prev is not None and prev[0] == "word" and prev[2] + len(prev[1]) == tok[2]:
                return None  # N'…', X'…', _utf8mb4'…'
            q = text[0]
            text = text[1:-1]
            if "\\" in text or q not in "'\"":
                return None
            if q in text:
                text = text.replace(q + q, q)
            add_type(T.STRING)
        elif kind == "quoted":
            text = text[1:-1].replace("``", "`")
            if not text or text.upper() in _NO_PAREN_PARSERS:
                return None
            add_type(T.IDENTIFIER)
        else:
            return None
        add_text(text)
        add_start(offset)
        add_end(end)
    # sqlglot's parser looks up to a few tokens ahead, past the end too
    ty += [T.SENTINEL] * 5
    tx += [""] * 5
    st += [len(sql)] * 5
    en += [len(sql)] * 5
    return ty, tx, st, en, special


# markers: their text is empty, where a name's or keyword's is not
_NUMBER = (T.NUMBER, "")
_NO_PAREN_VAR = (T.VAR, "")
_SPECIAL = (T.ORDER_BY, "")
_BAD = (T.UNKNOWN, "")
#: word -> (token type, token text), or one of the markers above: identifiers repeat a lot
_WORDS: dict[str, tuple[TokenType, str]] = {}


def _word(text: str) -> tuple[TokenType, str]:
    """How sqlglot's tokenizer reads a word, where that does not depend on its neighbours."""
    if text[0].isdigit():
        # 0x1F, 1e3, 2abc: sqlglot's own number rules
        return _NUMBER if text.isdigit() and text.isascii() else _BAD
    if not (text.isascii() and text.isidentifier()):
        return _BAD  # `$` and non-ASCII letters: no need to find out
    upper = text.upper()
    if upper in _MULTI or upper == "USER":
        return _SPECIAL  # the first word of ORDER BY, LOCK TABLES, USER-DEFINED …
    tt = _WORD_KW.get(upper)
    if tt is None:
        # sqlglot parses CONNECT_BY_ROOT & co. as functions even when they are not keywords
        return _NO_PAREN_VAR if upper in _NO_PAREN_PARSERS else (T.VAR, text)
    return tt, upper  # sqlglot's keyword tokens carry upper-case text


def _has_gap(sql: str, tokens: Sequence[Token], base: int) -> bool:
    """Is there text between the tokens: a comment (sqlglot attaches those to nodes) or a
    semicolon (the end of a statement for sqlglot)?"""
    pos = 0
    for t in tokens:
        start = t[2] - base
        if sql[pos:start].strip():
            return True
        pos = start + len(t[1])
    return bool(sql[pos:].strip())


def _at(node: exp.Expression, start: int, end: int) -> exp.Expression:
    """Positions as sqlglot's ``update_positions(token)`` sets them (start/end only)."""
    node._meta = {"start": start, "end": end}
    return node


class _Parser:
    """Recursive descent over the lexed tokens, one method per sqlglot parser method."""

    __slots__ = ("ty", "tx", "st", "en", "special", "i", "pending")

    def __init__(
        self, ty: list[TokenType], tx: list[str], st: list[int], en: list[int], special: bool
    ) -> None:
        self.ty, self.tx, self.st, self.en = ty, tx, st, en
        self.special = special  # a VAR that sqlglot takes for a function (IF) is among them
        self.i = 0
        self.pending: exp.Expression | None = None  # an operand parsed ahead, see leaf()

    # -- helpers ---------------------------------------------------------------------------
    def upper(self, k: int) -> str:
        """The text ``_match_text_seq`` compares (none for strings and quoted names)."""
        return "" if self.ty[k] in _TEXT_EXCLUDED else self.tx[k].upper()

    def expect(self, tt: TokenType) -> None:
        if self.ty[self.i] is not tt:
            raise _Bail
        self.i += 1

    def ident(self, k: int) -> exp.Identifier:
        node = exp.Identifier(this=self.tx[k], quoted=self.ty[k] is T.IDENTIFIER)
        node._meta = {"start": self.st[k], "end": self.en[k]}
        return node

    def csv(self, method: Callable[[], exp.Expression]) -> list[exp.Expression]:
        items = [method()]
        while self.ty[self.i] is T.COMMA:
            self.i += 1
            items.append(method())
        return items

    # -- statements ------------------------------------------------------------------------
    def statement(self) -> exp.Expression:
        t = self.ty[0]
        if t is T.SELECT:
            node = self.select()
        elif t is T.UPDATE:
            node = self.update()
        elif t is T.DELETE:
            node = self.delete()
        elif t is T.INSERT:
            node = self.insert()
        elif t is T.SET:
            node = self.set_statement()
        else:
            raise _Bail
        if t is not T.SELECT:
            node.comments = []  # sqlglot adds the (empty) comments of the statement's keyword
        if self.ty[self.i] is not T.SENTINEL or self.pending is not None:
            raise _Bail  # sqlglot: a Command, another statement, or an error
        return node

    def select(self) -> exp.Select:
        ty = self.ty
        self.i += 1
        distinct = None
        if ty[self.i + 1] is not T.DOT:
            if ty[self.i] is T.ALL:
                raise _Bail
            if ty[self.i] is T.DISTINCT:
                self.i += 1
                if ty[self.i] is T.ON:
                    raise _Bail
                distinct = exp.Distinct(on=None)
        t = ty[self.i]
        if t is T.ALIAS or (
            t in _OPERATION_MODIFIER_TYPES and self.tx[self.i].upper() in _P.OPERATION_MODIFIERS
        ):
            raise _Bail
        select = exp.Select(
            kind=None, hint=None, distinct=distinct, expressions=self.csv(self.expression),
            limit=None, exclude=None, operation_modifiers=None,
        )  # fmt: skip
        select.comments = []  # sqlglot hands over the SELECT token's (empty) comment list
        if ty[self.i] is T.INTO:
            raise _Bail
        if ty[self.i] is T.FROM:
            self.i += 1
            select.set("from_", exp.From(this=self.table()))
        return self.query_modifiers(select)

    def query_modifiers(self, this: exp.Select) -> exp.Select:
        ty = self.ty
        while (join := self.join()) is not None:
            this.append("joins", join)
        if ty[self.i] in (T.LATERAL, T.CROSS, T.OUTER):
            raise _Bail
        while True:
            t = ty[self.i]
            if t is T.WHERE:
                key, value = "where", self.where()
            elif t is T.GROUP_BY:
                key, value = "group", self.group()
            elif t is T.HAVING:
                self.i += 1
                key, value = "having", exp.Having(this=self.disjunction())
            elif t is T.ORDER_BY:
                key, value = "order", self.order()
            elif t is T.LIMIT:
                key, value = "limit", self.limit()
            elif t is T.OFFSET:
                key, value = "offset", self.offset()
            elif t is T.FOR or t is T.LOCK:
                key, value = "locks", self.locks()
            elif t in _MODIFIERS or t is T.BEGIN:  # (START WITH … CONNECT BY)
                raise _Bail
            else:
                return this
            if this.args.get(key):
                raise _Bail  # sqlglot: "Found multiple … clauses"
            this.set(key, value)
            if key == "limit":
                offset = value.args.get("offset")
                value.set("offset", None)
                if offset:
                    if this.args.get("offset"):
                        raise _Bail
                    node = exp.Offset(expression=offset)
                    this.set("offset", node)
                    by = value.expressions
                    value.set("expressions", None)
                    node.set("expressions", by)

    def update(self) -> exp.Update:
        ty = self.ty
        self.i += 1
        kwargs: dict[str, object] = {
            "hint": None,
            "this": self.table(joins=True, alias_tokens=_UPDATE_ALIAS),
        }
        while ty[self.i] is not T.SENTINEL:
            t = ty[self.i]
            if t is T.SET:
                self.i += 1
                kwargs["expressions"] = self.csv(self.update_assignment)
            elif t is T.WHERE:
                kwargs["where"] = self.where()
            elif t is T.ORDER_BY:
                kwargs["order"] = self.order()
            elif t is T.LIMIT:
                kwargs["limit"] = self.limit()
            elif t is T.RETURNING or t is T.FROM:
                raise _Bail
            else:
                break
        return exp.Update(**kwargs)

    def update_assignment(self) -> exp.Expression:
        this = self.comparison()
        if self.ty[self.i] is T.EQ:
            self.i += 1
            this = exp.EQ(this=this, expression=self.disjunction())
        return this

    def delete(self) -> exp.Delete:
        ty = self.ty
        self.i += 1
        self.expect(T.FROM)  # else MySQL's multiple-table syntax
        this = self.table(joins=True)
        if ty[self.i] in (T.USING, T.ON, T.RETURNING):
            raise _Bail
        where = self.where() if ty[self.i] is T.WHERE else None
        if ty[self.i] is T.RETURNING:
            raise _Bail
        order = self.order() if ty[self.i] is T.ORDER_BY else None
        limit = self.limit() if ty[self.i] is T.LIMIT else None
        args = {**_DELETE, "this": this, "where": where, "order": order, "limit": limit}
        return exp.Delete(**args)

    def insert(self) -> exp.Insert:
        ty = self.ty
        self.i += 1
        if ty[self.i] is T.INTO:
            self.i += 1
        elif self.upper(self.i) in ("LOCAL", "DIRECTORY"):
            raise _Bail
        if ty[self.i] not in _IDENT:
            raise _Bail  # IGNORE, OVERWRITE, TABLE, FUNCTION, LOCAL DIRECTORY, FIRST …
        this = self.table(schema=True)
        if ty[self.i] is T.VALUES:
            self.i += 1
            rows = self.csv(self.value)
            if ty[self.i] in _TABLE_ALIAS or ty[self.i] in (T.ALIAS, T.IDENTIFIER, T.STRING):
                raise _Bail  # a row alias (VALUES … AS new)
            expression: exp.Expression = exp.Values(expressions=rows, alias=None)
        elif ty[self.i] is T.SELECT:
            expression = self.select()
        else:
            raise _Bail
        conflict = None
        if self.upper(self.i) == "ON":
            if self.upper(self.i + 1) != "DUPLICATE" or self.upper(self.i + 2) != "KEY":
                raise _Bail
            self.i += 3
            if ty[self.i] is not T.UPDATE:
                raise _Bail
            self.i += 1
            if ty[self.i] is T.SET:
                self.i += 1
            conflict = exp.OnConflict(
                duplicate=True, expressions=self.csv(self.update_assignment),
                action=exp.var("UPDATE"), conflict_keys=None, index_predicate=None,
                constraint=None, where=None,
            )  # fmt: skip
            if ty[self.i] is T.WHERE:
                raise _Bail
        return exp.Insert(
            **{**_INSERT, "this": this, "expression": expression, "conflict": conflict}
        )

    def value(self) -> exp.Tuple:
        self.expect(T.L_PAREN)
        if self.ty[self.i] is T.DEFAULT:
            raise _Bail
        items = self.csv(self.value_expression)
        self.expect(T.R_PAREN)
        return exp.Tuple(expressions=items)

    def value_expression(self) -> exp.Expression:
        if self.ty[self.i] is T.DEFAULT:
            raise _Bail
        return self.expression()

    def set_statement(self) -> exp.Set:
        self.i += 1
        return exp.Set(expressions=self.csv(self.set_item), unset=False, tag=False)

    def set_item(self) -> exp.SetItem:
        ty = self.ty
        t = ty[self.i]
        if t not in (T.VAR, T.IDENTIFIER, T.PARAMETER):
            raise _Bail
        if self.tx[self.i].upper() in _SET_PREFIXES:
            raise _Bail  # SET NAMES, SET SESSION …
        left = self.column()
        self.expect(T.EQ)
        t = ty[self.i]
        if t in _STATEMENT_STARTS or t is T.TABLE or self.upper(self.i) == "WHILE":
            raise _Bail
        right = self.expression()
        if isinstance(right, (exp.Column, exp.Identifier)):
            right = exp.var(right.name)
        return exp.SetItem(this=exp.EQ(this=left, expression=right), kind=None)

    # -- FROM, joins and clauses -----------------------------------------------------------
    def table(
        self,
        schema: bool = False,
        joins: bool = False,
        alias_tokens: frozenset[TokenType] = _TABLE_ALIAS,
    ) -> exp.Expression:
        ty = self.ty
        if not schema and not joins:
            start = self.i
            table = self.table_parts_fast()
            if table is not None:
                if ty[self.i] in _TABLE_TERMINATORS and ty[self.i + 1] is not T.MATCH_CONDITION:
                    return table
                if ty[self.i] not in _TABLE_POSTFIX and ty[self.i + 1] not in _TABLE_POSTFIX:
                    alias = self.table_alias(alias_tokens)
                    if alias is not None:
                        table.set("alias", alias)
                    if ty[self.i] in _TABLE_TERMINATORS:
                        return table
                self.i = start
        if ty[self.i] not in _IDENT:
            raise _Bail  # derived tables, LATERAL, VALUES, ROWS FROM, ONLY …
        table = self.table_parts(schema)
        if ty[self.i] in (T.STAR, T.PARTITION):
            raise _Bail
        if schema:
            return self.schema(table)
        word = self.upper(self.i)
        if (word == "FOR" and self.upper(self.i + 1) in _VERSION_AFTER_FOR) or (
            word in ("TIMESTAMP", "VERSION") and self.upper(self.i + 1) == "AS"
        ):
            raise _Bail
        alias = self.table_alias(alias_tokens)
        if alias is not None:
            table.set("alias", alias)
        t = ty[self.i]
        if (
            t in (T.INDEXED_BY, T.WITH, T.FORCE, T.IGNORE, T.USE, T.TABLE_SAMPLE)
            or t in (T.PIVOT, T.UNPIVOT)
            or self.upper(self.i) in ("AT", "NOT", "BEFORE", "END")
        ):
            raise _Bail
        if joins:
            while (join := self.join(alias_tokens)) is not None:
                table.append("joins", join)
            if ty[self.i] is T.WITH:
                raise _Bail
        return table

    def dotted_parts(self, stop: frozenset[T]) -> list[exp.Identifier] | None:
        """``a.b.c`` as sqlglot's ``_parse_*_parts_fast`` read it; None, and nothing consumed,
        where a dot is not followed by a name or the last name by a token of ``stop``."""
        ty = self.ty
        start = self.i
        parts: list[exp.Identifier] = []
        while ty[self.i] in _IDENT:
            k = self.i
            self.i += 1
            dot = ty[self.i] is T.DOT
            if dot:
                self.i += 1
                if ty[self.i] not in _IDENT:
                    self.i = start
                    return None
            elif ty[self.i] in stop:
                self.i = start
                return None
            parts.append(self.ident(k))
            if not dot:
                break
        return parts

    def table_parts_fast(self) -> exp.Table | None:
        parts = self.dotted_parts(_TABLE_POSTFIX)
        if parts is None:
            return None
        n = len(parts)
        if n == 1:
            return exp.Table(this=parts[0])
        if n == 2:
            return exp.Table(this=parts[1], db=parts[0])
        if n == 3:
            return exp.Table(this=parts[2], db=parts[1], catalog=parts[0])
        raise _Bail

    def table_parts(self, schema: bool) -> exp.Table:
        parts = [self.table_part(schema)]
        while self.ty[self.i] is T.DOT:
            self.i += 1
            parts.append(self.table_part(schema))
        if len(parts) > 3:
            raise _Bail
        parts = [None] * (3 - len(parts)) + parts
        table = exp.Table(this=parts[2], db=parts[1], catalog=parts[0])
        word = self.upper(self.i)
        if word == "CHANGES" or self.ty[self.i] in (T.PIVOT, T.UNPIVOT):
            raise _Bail
        return table

    def table_part(self, schema: bool) -> exp.Identifier:
        k = self.i
        if self.ty[k] not in _IDENT or (not schema and self.ty[k + 1] is T.L_PAREN):
            raise _Bail  # keywords, strings, table functions
        self.i += 1
        return self.ident(k)

    def schema(self, this: exp.Table) -> exp.Expression:
        ty = self.ty
        if ty[self.i] is not T.L_PAREN:
            return this
        if ty[self.i + 1] in _P.SELECT_START_TOKENS or ty[self.i + 1] is T.TABLE:
            raise _Bail
        self.i += 1
        columns = self.csv(self.field_def)
        self.expect(T.R_PAREN)
        return exp.Schema(this=this, expressions=columns)

    def field_def(self) -> exp.Identifier:
        k = self.i
        if (
            self.ty[k] not in _IDENT
            or self.ty[k + 1] not in (T.COMMA, T.R_PAREN)
            or self.upper(k) in _P.SCHEMA_UNNAMED_CONSTRAINTS
            or self.upper(k) in _NO_PAREN_PARSERS
        ):
            raise _Bail
        self.i += 1
        return self.ident(k)

    def table_alias(self, alias_tokens: frozenset[TokenType]) -> exp.TableAlias | None:
        ty = self.ty
        t = ty[self.i]
        if t is T.LIMIT or t is T.OFFSET:
            return None  # the clause; if it does not parse, sqlglot would alias: bail later
        explicit = t is T.ALIAS
        if explicit:
            self.i += 1
            t = ty[self.i]
        if t is T.VAR or t is T.IDENTIFIER:
            alias = self.ident(self.i)
            self.i += 1
        elif explicit or t in alias_tokens or t in (T.STRING, T.PLACEHOLDER, T.PARAMETER):
            raise _Bail  # keywords as aliases (upper-cased by sqlglot), strings, parameters
        else:
            return None
        if ty[self.i] is T.L_PAREN:
            raise _Bail
        table_alias = exp.TableAlias(this=alias, columns=None)
        table_alias.comments = []
        return table_alias

    def join(self, alias_tokens: frozenset[TokenType] | None = None) -> exp.Join | None:
        ty = self.ty
        if ty[self.i] is T.COMMA:
            self.i += 1
            return exp.Join(this=self.table(alias_tokens=alias_tokens or _TABLE_ALIAS))
        start = self.i
        side = kind = None
        if ty[self.i] in (T.LEFT, T.RIGHT, T.FULL):
            side = self.tx[self.i]
            self.i += 1
        if ty[self.i] in (T.INNER, T.OUTER, T.CROSS):
            kind = self.tx[self.i]
            self.i += 1
        if ty[self.i] is not T.JOIN:
            self.i = start
            if ty[self.i] in _JOIN_START and ty[self.i] is not T.COMMA:
                raise _Bail  # NATURAL, STRAIGHT_JOIN, CROSS APPLY …
            return None
        self.i += 1
        kwargs: dict[str, object] = {"this": self.table(alias_tokens=alias_tokens or _TABLE_ALIAS)}
        if side:
            kwargs["side"] = side
        if kind:
            kwargs["kind"] = kind
        t = ty[self.i]
        if t is T.ON:
            self.i += 1
            kwargs["on"] = self.disjunction()
        elif t is T.USING:
            self.i += 1
            self.expect(T.L_PAREN)
            kwargs["using"] = self.csv(self.using_identifier)
            self.expect(T.R_PAREN)
        elif kind != "CROSS" and t in _JOIN_START:
            raise _Bail  # sqlglot tries nested joins here
        if t is T.MATCH_CONDITION or ty[self.i] in (T.PIVOT, T.UNPIVOT):
            raise _Bail
        kwargs["pivots"] = None
        return exp.Join(**kwargs)

    def using_identifier(self) -> exp.Identifier:
        k = self.i
        if self.ty[k] not in _IDENT or self.ty[k + 1] not in (T.COMMA, T.R_PAREN):
            raise _Bail
        self.i += 1
        return self.ident(k)

    def where(self) -> exp.Where:
        self.i += 1
        return exp.Where(this=self.disjunction())

    def group(self) -> exp.Group:
        self.i += 1
        t = self.ty[self.i]
        if t in _MODIFIERS or t in (T.ALL, T.DISTINCT, T.CUBE, T.ROLLUP, T.GROUPING_SETS):
            raise _Bail
        expressions = self.csv(self.disjunction)
        if self.ty[self.i] in (T.WITH, T.GROUPING_SETS) or self.upper(self.i) == "TOTALS":
            raise _Bail
        return exp.Group(expressions=expressions)

    def order(self) -> exp.Order:
        self.i += 1
        return exp.Order(this=None, expressions=self.csv(self.ordered), siblings=None)

    def ordered(self) -> exp.Ordered:
        this = self.disjunction()
        ty = self.ty
        asc = ty[self.i] is T.ASC
        if asc:
            self.i += 1
        desc: bool | None = None
        if ty[self.i] is T.DESC:
            self.i += 1
            desc = True
        elif asc:
            desc = False
        if self.upper(self.i) in ("NULLS", "WITH"):
            raise _Bail
        # MySQL sorts NULLs as small values
        return exp.Ordered(this=this, desc=desc, nulls_first=not desc, with_fill=None)

    def limit(self) -> exp.Limit:
        self.i += 1
        expression = self.term(parse_mod=False)
        if self.ty[self.i] in (T.PERCENT, T.MOD) or self.upper(self.i) in (
            "ROW", "ROWS", "ONLY", "WITH",
        ):  # fmt: skip
            raise _Bail
        offset = None
        if self.ty[self.i] is T.COMMA:
            self.i += 1
            offset, expression = expression, self.term()
        if self.upper(self.i) == "BY":
            raise _Bail
        return exp.Limit(
            this=None, expression=expression, offset=offset, limit_options=None, expressions=None
        )

    def offset(self) -> exp.Offset:
        self.i += 1
        count = self.term()
        if self.upper(self.i) in ("ROW", "ROWS", "BY"):
            raise _Bail
        return exp.Offset(this=None, expression=count, expressions=None)

    def locks(self) -> list[exp.Lock]:
        locks = []
        while True:
            a, b = self.upper(self.i), self.upper(self.i + 1)
            if a == "FOR" and b in ("UPDATE", "SHARE"):
                self.i += 2
                update = b == "UPDATE"
            elif (a, b, self.upper(self.i + 2), self.upper(self.i + 3)) == (
                "LOCK", "IN", "SHARE", "MODE",
            ):  # fmt: skip
                self.i += 4
                update = False
            else:
                break
            if self.upper(self.i) in ("OF", "NOWAIT", "WAIT", "SKIP"):
                raise _Bail
            locks.append(exp.Lock(update=update, expressions=None, wait=None, key=None))
        if not locks:
            raise _Bail
        return locks

    # -- expressions -----------------------------------------------------------------------
    def expression(self) -> exp.Expression:
        return self.alias(self.disjunction())

    def alias(self, this: exp.Expression, explicit: bool = False) -> exp.Expression:
        ty = self.ty
        t = ty[self.i]
        if t is T.LIMIT or t is T.OFFSET:
            return this  # the clause (if it does not parse, sqlglot aliases: we bail later)
        if t is T.WINDOW:
            raise _Bail
        given = t is T.ALIAS
        if given:
            self.i += 1
            t = ty[self.i]
        elif explicit:
            return this
        if t is T.VAR or t is T.IDENTIFIER:
            alias = self.ident(self.i)
            self.i += 1
            return exp.Alias(this=this, alias=alias)
        if given or t in _ALIAS_TOKENS or t in (T.L_PAREN, T.STRING, T.PARAMETER):
            raise _Bail  # keyword or string aliases, Aliases, a placeholder
        return this

    def leaf(self, ends: frozenset[TokenType]) -> exp.Expression | None:
        """A shortcut through the levels of the descent: a lone name, literal or function call
        followed by a token that no level down to here takes comes back as it is. A call that
        is followed by something else waits in ``pending`` for :meth:`unary`."""
        if self.pending is not None:
            return None
        ty = self.ty
        k = self.i
        t = ty[k]
        nt = ty[k + 1]
        if t is T.VAR and nt is T.L_PAREN:
            node = self.column()
            if ty[self.i] in ends:
                return node
            self.pending = node
            return None
        if t is T.VAR or t is T.IDENTIFIER:  # what atom() -> column() would build
            if self.special and self.tx[k].upper() in _NO_PAREN_PARSERS:
                return None
            if nt in ends:
                self.i = k + 1
                return exp.Column(this=self.ident(k))
            if nt is T.DOT and ty[k + 2] in _IDENT and ty[k + 3] in ends:  # t.a
                self.i = k + 3
                return exp.Column(this=self.ident(k + 2), table=self.ident(k))
            return None
        if nt in ends and t in _LEAVES:
            return self.atom()
        return None

    def disjunction(self) -> exp.Expression:
        this = self.leaf(_ENDS)
        if this is not None:
            return this
        this = self.conjunction()
        while self.ty[self.i] in _OR:
            self.i += 1
            this = exp.Or(this=this, expression=self.conjunction())
        return this

    def conjunction(self) -> exp.Expression:
        this = self.equality()
        while self.ty[self.i] in _AND:
            self.i += 1
            this = exp.And(this=this, expression=self.equality())
        if self.ty[self.i] is T.XOR:
            raise _Bail
        return this

    def equality(self) -> exp.Expression:
        this = self.comparison()
        while True:
            t = self.ty[self.i]
            cls = _EQUALITY.get(t)
            if cls is not None:
                self.i += 1
                this = _predicate(cls, this, self.comparison())
            elif t in _IS_PREDICATE and (t is not T.NOT or self.ty[self.i + 1] is T.NULL):
                index = self.i
                this = self.comparison(self.range(this, parse_is=True))
                if self.i == index:
                    break
            else:
                return this
        return this

    def comparison(self, this: exp.Expression | None = None) -> exp.Expression:
        if this is None:
            this = self.leaf(_COMPARISON_ENDS)
            if this is not None:
                return this
            this = self.range()
        while (cls := _COMPARISON.get(self.ty[self.i])) is not None:
            self.i += 1
            this = _predicate(cls, this, self.range())
        return this

    def range(self, this: exp.Expression | None = None, parse_is: bool = False) -> exp.Expression:
        ty = self.ty
        if this is None:
            this = self.bitwise()
        if self.ty[self.i] is T.VAR and self.tx[self.i].upper() == "SOUNDS":
            raise _Bail  # SOUNDS LIKE
        while True:
            t = ty[self.i]
            if not parse_is and t in _IS_PREDICATE and (t is not T.NOT or ty[self.i + 1] is T.NULL):
                break  # IS … is for equality()
            negate = t is T.NOT
            if negate:
                self.i += 1
            t = ty[self.i]
            if t not in _RANGE:
                if t is T.ISNULL or t is T.NOTNULL or (negate and t is T.NULL):
                    raise _Bail
                if negate:
                    self.i -= 1
                break
            self.i += 1
            if t is T.BETWEEN:
                this = self.between(this)
            elif t is T.IN:
                this = self.in_(this)
            elif t is T.IS:
                this = self.is_(this)
            elif t is T.LIKE:
                this = exp.Like(this=this, expression=self.bitwise())
                if ty[self.i] is T.ESCAPE:
                    raise _Bail
            elif t is T.FOR and not negate:
                # a comprehension (x FOR y IN z) or not: sqlglot gives back the FOR
                if T.IN in ty[self.i : self.i + 4] or T.COMMA in ty[self.i : self.i + 2]:
                    raise _Bail
                self.i -= 1
                return this
            else:
                raise _Bail
            if negate:
                if isinstance(this, exp.Like):
                    this.set("negate", True)
                else:
                    this = exp.Not(this=this)
            if (negate or (isinstance(this, exp.Not) and isinstance(this.this, exp.Is))) and (
                ty[self.i] is T.NOT or ty[self.i] in _RANGE
            ):
                raise _Bail  # sqlglot wraps in a Paren here
        return this

    def between(self, this: exp.Expression) -> exp.Between:
        if isinstance(this, _IS_LIKE):
            this = exp.Paren(this=this)
        if self.upper(self.i) in ("SYMMETRIC", "ASYMMETRIC"):
            raise _Bail
        low = self.bitwise()
        self.expect(T.AND)
        return exp.Between(this=this, low=low, high=self.bitwise(), symmetric=None)

    def in_(self, this: exp.Expression) -> exp.In:
        self.expect(T.L_PAREN)
        if self.ty[self.i] is T.R_PAREN:
            raise _Bail
        items = [self.select()] if self.ty[self.i] is T.SELECT else self.csv(self.disjunction)
        self.expect(T.R_PAREN)
        if len(items) == 1 and isinstance(items[0], exp.Query):  # IN (SELECT …), IN ((…))
            return exp.In(this=this, query=items[0].subquery(copy=False))
        return exp.In(this=this, expressions=items)

    def is_(self, this: exp.Expression) -> exp.Expression:
        ty = self.ty
        negate = ty[self.i] is T.NOT
        if negate:
            self.i += 1
        t = ty[self.i]
        if t is T.NULL or t is T.UNKNOWN:
            self.i += 1
            expression: exp.Expression = exp.Null()
        elif t is T.TRUE or t is T.FALSE:
            expression = self.bitwise()
        else:
            raise _Bail  # IS DISTINCT FROM, IS JSON, IS <expression>
        this = _predicate(exp.Is, this, expression)
        if negate:
            this = exp.Not(this=this)
        if ty[self.i] in _COLUMN_OPS:
            raise _Bail
        return this

    def bitwise(self) -> exp.Expression:
        this = self.leaf(_BITWISE_ENDS)
        if this is None:
            this = self.term()
        t = self.ty[self.i]
        if (t is T.LT or t is T.GT) and self.ty[self.i + 1] is t:
            raise _Bail  # << and >> shifts
        return this

    def term(self, parse_mod: bool = True) -> exp.Expression:
        this = self.factor(parse_mod)
        while True:
            t = self.ty[self.i]
            if t is T.PLUS:
                self.i += 1
                this = exp.Add(this=this, expression=self.factor(parse_mod))
            elif t is T.DASH:
                self.i += 1
                this = exp.Sub(this=this, expression=self.factor(parse_mod))
            elif t is T.COLLATE:
                raise _Bail
            else:
                return this

    def factor(self, parse_mod: bool = True) -> exp.Expression:
        this = self.unary()
        if self.ty[self.i] is T.VAR and self.tx[self.i].upper() == "AT":
            if self.upper(self.i + 1) == "TIME":
                raise _Bail  # AT TIME ZONE
        while (cls := _FACTOR.get(self.ty[self.i])) is not None:
            if not parse_mod and cls is exp.Mod:
                break
            self.i += 1
            this = cls(this=this, expression=self.unary())
            if cls is exp.Div:
                this.set("typed", False)
                this.set("safe", True)
        return this

    def unary(self) -> exp.Expression:
        if self.pending is not None:
            node, self.pending = self.pending, None
            return node
        t = self.ty[self.i]
        if t is T.PLUS:
            self.i += 1
            return self.unary()
        if t is T.DASH:
            self.i += 1
            return exp.Neg(this=self.unary())
        if t is T.NOT:  # MySQL: NOT takes an equality (the "!" form is never lexed here)
            self.i += 1
            return exp.Not(this=self.equality())
        return self.type_()

    def type_(self) -> exp.Expression:
        atom = self.atom()
        if atom is not None:
            return atom
        t = self.ty[self.i]
        if t is T.INTERVAL:
            return self.column_ops(self.interval())
        if t in _TYPE_TOKENS:
            raise _Bail
        return self.column()

    def atom(self) -> exp.Expression | None:
        ty = self.ty
        k = self.i
        t = ty[k]
        if t is T.VAR or t is T.IDENTIFIER:
            return self.column()
        if t not in _PRIMARY:
            return None
        nt = ty[k + 1]
        if nt in _COLUMN_OPS or (t is T.STRING and nt is T.STRING):
            raise _Bail  # 'a' 'b' concatenation, 1::int, NULL.x …
        self.i += 1
        if t is T.NUMBER:
            return _at(exp.Literal(this=self.tx[k], is_string=False), self.st[k], self.en[k])
        if t is T.STRING:
            return _at(exp.Literal(this=self.tx[k], is_string=True), self.st[k], self.en[k])
        if t is T.NULL:
            return exp.Null()
        if t is T.TRUE or t is T.FALSE:
            return exp.Boolean(this=t is T.TRUE)
        return self.star(k)

    def star(self, k: int) -> exp.Star:
        if self.upper(self.i) in _STAR_WORDS:
            raise _Bail
        star = exp.Star(ilike=None, except_=None, replace=None, rename=None)
        return _at(star, self.st[k], self.en[k])

    def column(self) -> exp.Expression:
        column = self.column_parts_fast()
        if column is None:
            column = self.column_ops(self.column_reference())
        return column

    def column_parts_fast(self) -> exp.Expression | None:
        ty = self.ty
        k = self.i
        t = ty[k + 1]
        if ty[k] is not T.VAR and ty[k] is not T.IDENTIFIER:
            return None
        if self.special and self.tx[k].upper() in _NO_PAREN_PARSERS:
            return None  # IF(…)
        if t is not T.DOT:  # the common case: one part
            if t in _COLUMN_OPS:
                return None
            self.i = k + 1
            return exp.Column(this=self.ident(k))
        parts = self.dotted_parts(_COLUMN_OPS)
        if not parts:
            return None
        n = len(parts)
        if n == 1:
            return exp.Column(this=parts[0])
        if n == 2:
            return exp.Column(this=parts[1], table=parts[0])
        if n == 3:
            return exp.Column(this=parts[2], table=parts[1], db=parts[0])
        if n == 4:
            return exp.Column(this=parts[3], table=parts[2], db=parts[1], catalog=parts[0])
        raise _Bail

    def column_reference(self) -> exp.Expression:
        ty = self.ty
        t = ty[self.i]
        if t is T.L_PAREN:
            return self.paren()
        func = self.function_call()
        if func is not None:
            return func
        if t is T.VAR or t is T.IDENTIFIER:
            k = self.i
            self.i += 1
            return exp.Column(this=self.ident(k))
        if t is T.PLACEHOLDER:
            self.i += 1
            return exp.Placeholder()
        if t is T.PARAMETER and ty[self.i + 1] is T.VAR:
            self.i += 2
            return exp.Parameter(this=exp.Var(this=self.tx[self.i - 1]))
        raise _Bail  # keywords as names (sqlglot upper-cases them), placeholders, brackets

    def column_ops(self, this: exp.Expression) -> exp.Expression:
        ty = self.ty
        while ty[self.i] in _COLUMN_OPS:
            if (
                ty[self.i] is T.DOT
                and ty[self.i + 1] is T.STAR
                and isinstance(this, exp.Column)
                and not this.args.get("catalog")
            ):
                k = self.i + 1
                self.i += 2
                star = self.star(k)
                this = exp.Column(
                    this=star,
                    table=this.this,
                    db=this.args.get("table"),
                    catalog=this.args.get("db"),
                )
            else:
                raise _Bail
        return this

    def paren(self) -> exp.Expression:
        self.i += 1
        if self.ty[self.i] is T.R_PAREN:
            raise _Bail
        this = self.select() if self.ty[self.i] is T.SELECT else self.expression()
        self.expect(T.R_PAREN)  # a comma: a Tuple
        if isinstance(this, (exp.Select, exp.Subquery)):  # ((SELECT …)): a subquery's subquery
            node: exp.Expression = exp.Subquery(this=this, pivots=None, alias=None, sample=None)
        else:
            node = exp.Paren(this=this)
        node.comments = []
        if isinstance(this, exp.AggFunc):
            self.after_function()
        return node

    def function_call(self) -> exp.Expression | None:
        ty = self.ty
        k = self.i
        t = ty[k]
        text = self.tx[k]
        upper = text.upper()
        if upper in _NO_PAREN_PARSERS and t is not T.IDENTIFIER:
            if t is T.CASE:
                self.i += 1
                node: exp.Expression = self.case()
            elif upper == "IF" and ty[k + 1] is T.L_PAREN:
                self.i += 2
                args = self.csv(self.lambda_alias)
                node = exp.If.from_arg_list(args)
                if node.error_messages(args):
                    raise _Bail
                self.expect(T.R_PAREN)
            else:
                raise _Bail  # IF … THEN, ANY …
            self.after_function()
            return node
        if ty[k + 1] is not T.L_PAREN:
            no_paren = _P.NO_PAREN_FUNCTIONS.get(t)
            if no_paren is not None:
                self.i += 1
                return no_paren()
            return None
        if t not in _FUNC_TOKENS or t is T.IDENTIFIER:
            raise _Bail
        if t is T.EXISTS and ty[k + 2] is T.SELECT:
            self.i += 2
            exists = exp.Exists(this=self.select())
            self.expect(T.R_PAREN)
            return exists
        if upper in ("CEIL", "FLOOR"):
            self.i += 2
            args = self.csv(self.lambda_)
            if len(args) > 2 or self.upper(self.i) == "TO":
                raise _Bail
            cls = exp.Ceil if upper == "CEIL" else exp.Floor
            node = cls(this=args[0], decimals=args[1] if len(args) > 1 else None, to=None)
            node.comments = []
            self.expect(T.R_PAREN)
            self.after_function()
            return node
        if upper in _P.FUNCTION_PARSERS or t in _P.SUBQUERY_PREDICATES:
            raise _Bail
        if upper in _P.FUNCTIONS_WITH_ALIASED_ARGS:
            raise _Bail
        self.i += 2
        builder = _P.FUNCTIONS.get(upper)
        args = self.function_args(alias=builder is None)
        if builder is not None:
            func = _build(builder, args)
            if func.error_messages(args):
                raise _Bail  # sqlglot reports it
        else:
            func = exp.Anonymous(this=text, expressions=args)
        meta = func.meta
        meta["start"], meta["end"] = self.st[k], self.en[k]
        func.comments = []
        self.expect(T.R_PAREN)
        self.after_function()
        return func

    def after_function(self) -> None:
        """``_parse_window``: OVER, FILTER, WITHIN GROUP, IGNORE NULLS … are not handled."""
        if self.ty[self.i] in _AFTER_FUNCTION_TYPES and self.upper(self.i) in _AFTER_FUNCTION:
            raise _Bail

    def function_args(self, alias: bool) -> list[exp.Expression]:
        if self.ty[self.i] is T.R_PAREN:
            return []
        return self.csv(self.lambda_alias if alias else self.lambda_)

    def lambda_(self) -> exp.Expression:
        t = self.ty[self.i]
        if t is T.DISTINCT or t is T.ALL or t is T.TABLE:
            raise _Bail
        this = self.disjunction()
        t = self.ty[self.i]
        if t is not T.COMMA and t is not T.R_PAREN:
            raise _Bail  # ORDER BY, LIMIT, HAVING MAX, IGNORE NULLS … inside the call
        return this

    def lambda_alias(self) -> exp.Expression:
        this = self.lambda_()
        if self.ty[self.i] is T.ALIAS:
            raise _Bail
        return this

    def case(self) -> exp.Case:
        ty = self.ty
        if ty[self.i] is T.DOT:
            raise _Bail
        expression = None if ty[self.i] is T.WHEN else self.disjunction()
        ifs = []
        while ty[self.i] is T.WHEN:
            self.i += 1
            this = self.disjunction()
            self.expect(T.THEN)
            ifs.append(exp.If(this=this, true=self.disjunction()))
        default = None
        if ty[self.i] is T.ELSE:
            self.i += 1
            default = self.disjunction()
        self.expect(T.END)
        return exp.Case(this=expression, ifs=ifs, default=default)

    def interval(self) -> exp.Expression:
        ty = self.ty
        self.i += 1
        if ty[self.i] is T.STRING:
            raise _Bail  # INTERVAL '1 day': sqlglot splits the string
        this = self.term()
        word = self.tx[self.i].upper()
        if isinstance(this, exp.Column) and (
            this.args.get("table") or this.this.quoted or word not in _DIALECT.VALID_INTERVAL_UNITS
        ):
            raise _Bail
        t = ty[self.i]
        if not (t is T.VAR or word in _DIALECT.VALID_INTERVAL_UNITS) or t in _TEXT_EXCLUDED:
            raise _Bail  # no unit
        if (
            ty[self.i + 1] is T.L_PAREN
            or word in _NO_PAREN_PARSERS
            or t in _P.NO_PAREN_FUNCTIONS
            or t in _RESERVED
        ):
            raise _Bail
        self.i += 1
        unit = exp.Var(this=word)
        if this.is_number:
            this = exp.Literal.string(this.to_py())
        elif this.is_string:
            raise _Bail
        if self.upper(self.i) == "TO":
            raise _Bail
        t = ty[self.i]
        if (
            t is T.STRING
            or t is T.NUMBER
            or (t is T.PLUS and ty[self.i + 1] in (T.STRING, T.NUMBER))
        ):
            raise _Bail  # INTERVAL '1' DAY + '2' HOUR: a sum of intervals
        return exp.Interval(this=this, unit=unit, fraction_in_string=None)


_NEEDS_DIALECT: dict[Callable[..., exp.Expression], bool] = {}


def _build(builder: Callable[..., exp.Expression], args: list[exp.Expression]) -> exp.Expression:
    """``builder(args)``, and with ``dialect=`` where that raises TypeError, as sqlglot does;
    a builder that requires ``dialect`` gets it straight away (the same result, no raise)."""
    needs = _NEEDS_DIALECT.get(builder)
    if needs is None:
        try:
            param = inspect.signature(builder).parameters.get("dialect")
        except (TypeError, ValueError):  # compiled builders: ask as sqlglot does
            param = None
        needs = _NEEDS_DIALECT[builder] = (
            param is not None
            and param.default is inspect.Parameter.empty
            and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
        )
    if needs:
        return builder(args, dialect=_DIALECT)
    try:
        return builder(args)
    except TypeError:
        return builder(args, dialect=_DIALECT)


def _predicate(
    klass: type[exp.Expression], this: exp.Expression, expression: exp.Expression
) -> exp.Expression:
    """``_build_predicate``: IS binds like a comparison, so sqlglot adds parentheses."""
    if klass in _IS_LIKE:
        if (
            isinstance(this, (exp.Connector, exp.Not, exp.NullSafeNEQ))
            or type(this) in _EQ_TYPES
            or type(this) in _CMP_TYPES
            or (klass is not exp.Is and isinstance(this, exp.Is))
        ):
            this = exp.Paren(this=this)
        if isinstance(expression, (exp.Predicate, exp.Connector, exp.Not, exp.Escape)):
            expression = exp.Paren(this=expression)
    else:
        if isinstance(this.this if isinstance(this, exp.Not) else this, _IS_LIKE):
            this = exp.Paren(this=this)
        if isinstance(expression.this if isinstance(expression, exp.Not) else expression, _IS_LIKE):
            expression = exp.Paren(this=expression)
    return klass(this=this, expression=expression)
