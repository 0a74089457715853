from __future__ import annotations

import re
from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import FileContext, StatementContext
from ticketdb.lint.parse.unit import is_ignored_flag
from ticketdb.lint.registry import Rule, register
from ticketdb.sqlscript import Token

MARIADB = "MariaDB-only"
MYSQL = "MySQL-only"
_MARIADB_ENGINES = {
    "ARIA",
    "COLUMNSTORE",
    "S3",
    "SPIDER",
    "CONNECT",
    "SEQUENCE",
    "MROONGA",
    "OQGRAPH",
}
_MARIADB_TYPES = {"INET4", "INET6", "UUID", "XMLTYPE"}
_MYSQL8_COMMENT = re.compile(r"/\*!(8\d{4}|9\d{4})")


#: the words that can start a form _checks() reports; every other word is skipped at once
_TRIGGERS = {
    "CREATE", "IF", "BEGIN", "RETURNING", "SEQUENCE", "NEXT", "PREVIOUS", "IGNORED", "SYSTEM",
    "SET", "EXECUTE", "FOR", "TYPE", "ENGINE", "VALUES", "TABLE", "LATERAL", "SRID", "COLLATE",
    "CHARSET", "NEXTVAL", "LASTVAL", "SETVAL", *_MARIADB_TYPES,
}  # fmt: skip


@register
class Portability(Rule):
    """Syntax that works on only one of MySQL 8.0+ and MariaDB 10.11 (ticketdb supports both).

    MariaDB-only: ``CREATE OR REPLACE`` (except VIEW), ``IF [NOT] EXISTS`` inside ALTER TABLE and
    on CREATE/DROP INDEX or CREATE VIEW, ``BEGIN NOT ATOMIC``, ``RETURNING``, sequences
    (``CREATE SEQUENCE``, ``NEXTVAL``, ``NEXT VALUE FOR``), ``IGNORED`` indexes, ``WITH SYSTEM
    VERSIONING``, ``SET STATEMENT … FOR``, ``EXECUTE IMMEDIATE``, ``TYPE OF``, UUID/INET4/INET6
    column types, utf8mb4_uca1400 collations, Aria/ColumnStore/… engines.
    MySQL-only: ``utf8mb4_0900_*`` collations, ``INVISIBLE``/``VISIBLE`` indexes, functional key
    parts ``((expr))``, ``VALUES ROW(…)``, the ``TABLE t`` statement, ``INSERT … AS alias``
    row aliases, ``LATERAL``, ``SRID``, and ``/*!8xxxx … */`` comments (MariaDB executes them).

    **Anti-pattern**

    .. code-block:: sql

        CREATE OR REPLACE PROCEDURE p() SELECT 1;
        CREATE TABLE t (id INT PRIMARY KEY) COLLATE utf8mb4_0900_ai_ci;
        ALTER TABLE t ADD COLUMN IF NOT EXISTS note TEXT;

    **Best practice**

    .. code-block:: sql

        DROP PROCEDURE IF EXISTS p;
        CREATE PROCEDURE p() SELECT 1;
        CREATE TABLE t (id INT PRIMARY KEY) COLLATE utf8mb4_unicode_ci;
        ALTER TABLE t ADD COLUMN note TEXT;
    """

    code = "TDB010"
    name = "portability"
    severity = "warning"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        for m in _MYSQL8_COMMENT.finditer(ctx.file.text):
            yield (
                m.start(),
                (
                    f"{MYSQL}: version comment {m.group(0)} runs on MariaDB too (its version "
                    "number is higher), so its MySQL 8 syntax breaks there"
                ),
            )

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        seen: set[str] = set()
        for offset, message in self._checks(ctx):
            if message not in seen:
                seen.add(message)
                yield offset, message

    def _checks(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        toks = st.tokens
        words = st.words
        if not toks:
            return
        alter_table = words[:2] == ["ALTER", "TABLE"] or words[:3] == ["ALTER", "IGNORE", "TABLE"]
        ups = st.uppers
        triggers = _TRIGGERS
        # most words start none of the forms below: only those that may are looked at
        for i in [k for k, u in enumerate(ups) if u in triggers]:
            t = toks[i]
            if t.kind != "word":
                continue
            w = ups[i]
            nxt = ups[i + 1 : i + 4]
            if w == "CREATE" and nxt[:2] == ["OR", "REPLACE"] and i == 0:
                kind = st.header.kind if st.header else ""
                if kind != "VIEW":
                    yield (
                        t.offset,
                        (
                            f"{MARIADB}: CREATE OR REPLACE {kind}; "
                            f"use DROP {kind} IF EXISTS + CREATE"
                        ),
                    )
            elif w == "IF" and (nxt[:2] == ["NOT", "EXISTS"] or nxt[:1] == ["EXISTS"]):
                if alter_table:
                    yield t.offset, f"{MARIADB}: IF [NOT] EXISTS inside ALTER TABLE"
                elif words[:2] in (["CREATE", "INDEX"], ["DROP", "INDEX"]) or (
                    words[:1] == ["CREATE"]
                    and len(words) > 2
                    and words[1] in ("UNIQUE", "FULLTEXT", "SPATIAL")
                    and words[2] == "INDEX"
                ):
                    yield t.offset, f"{MARIADB}: IF [NOT] EXISTS on {words[0]} INDEX"
                elif words[:1] == ["CREATE"] and st.header and st.header.kind == "VIEW":
                    yield t.offset, f"{MARIADB}: CREATE VIEW IF NOT EXISTS (MySQL 8.x lacks it)"
            elif w == "BEGIN" and nxt[:2] == ["NOT", "ATOMIC"]:
                yield t.offset, f"{MARIADB}: BEGIN NOT ATOMIC (anonymous compound statement)"
            elif (
                w == "RETURNING"
                and ups[:i].count("(") == ups[:i].count(")")
                and words[:1] in (["INSERT"], ["DELETE"], ["REPLACE"])
            ):
                yield t.offset, f"{MARIADB}: {words[0]} … RETURNING"
            elif (
                w == "SEQUENCE"
                and i > 0
                and toks[i - 1].upper in ("CREATE", "REPLACE", "TEMPORARY", "ALTER", "DROP")
            ):
                yield t.offset, f"{MARIADB}: sequences ({toks[i - 1].upper} SEQUENCE)"
            elif w in ("NEXT", "PREVIOUS") and nxt[:2] == ["VALUE", "FOR"]:
                yield t.offset, f"{MARIADB}: {w} VALUE FOR (sequences)"
            elif w == "IGNORED" and is_ignored_flag(toks, i):
                yield t.offset, f"{MARIADB}: IGNORED index (MySQL says INVISIBLE)"
            elif w == "SYSTEM" and nxt[:1] == ["VERSIONING"]:
                yield t.offset, f"{MARIADB}: system-versioned tables"
            elif w == "SET" and i == 0 and nxt[:1] == ["STATEMENT"]:
                yield t.offset, f"{MARIADB}: SET STATEMENT … FOR"
            elif w == "EXECUTE" and nxt[:1] == ["IMMEDIATE"]:
                yield t.offset, f"{MARIADB}: EXECUTE IMMEDIATE"
            elif w == "FOR" and nxt[1:2] == ["IN"] and st.routine is not None:
                yield t.offset, f"{MARIADB}: FOR … IN … DO loop"
            elif w == "TYPE" and nxt[:1] == ["OF"]:
                yield t.offset, f"{MARIADB}: DECLARE … TYPE OF"
            elif w == "ENGINE":
                j = i + 1 + (toks[i + 1].text == "=" if i + 1 < len(toks) else 0)
                if j < len(toks) and toks[j].upper in _MARIADB_ENGINES:
                    yield toks[j].offset, f"{MARIADB}: ENGINE={toks[j].text}"
            elif (
                w in _MARIADB_TYPES
                and _is_column_type(toks, i)
                and (alter_table or words[:1] == ["CREATE"])
            ):
                yield t.offset, f"{MARIADB}: column type {w}"
            elif w == "VALUES" and nxt[:2] == ["ROW", "("]:
                yield t.offset, f"{MYSQL}: VALUES ROW(…) table value constructor"
            elif w == "TABLE" and i == 0:
                yield t.offset, f"{MYSQL}: TABLE statement"
            elif w == "LATERAL":
                yield t.offset, f"{MYSQL}: LATERAL derived table"
            elif w == "SRID" and (alter_table or words[:1] == ["CREATE"]):
                yield t.offset, f"{MYSQL}: SRID column attribute"
            elif w in ("COLLATE", "CHARSET") or (
                w == "SET" and i > 0 and toks[i - 1].upper == "CHARACTER"
            ):
                j = i + 1 + (i + 1 < len(toks) and toks[i + 1].text == "=")
                if j < len(toks):
                    yield from self._collation(toks[j])
            elif w in ("NEXTVAL", "LASTVAL", "SETVAL") and nxt[:1] == ["("]:
                yield t.offset, f"{MARIADB}: {w}() (sequences)"
        for unit in st.units:
            tree = unit.tree
            if tree is None:
                continue
            for opt in unit.find_all(exp.IndexConstraintOption):
                if opt.args.get("visible") is not None:
                    yield (
                        unit.offset_of(opt.parent or opt),
                        f"{MYSQL}: INVISIBLE/VISIBLE index (MariaDB says IGNORED)",
                    )
            for ai in unit.find_all(exp.AlterIndex):
                yield (
                    unit.offset_of(ai),
                    f"{MYSQL}: ALTER INDEX … INVISIBLE/VISIBLE (MariaDB says IGNORED)",
                )
            for idx in unit.find_all(
                exp.IndexColumnConstraint, exp.IndexParameters, exp.PrimaryKey
            ):
                parts = (
                    idx.expressions
                    if not isinstance(idx, exp.IndexParameters)
                    else idx.args.get("columns") or []
                )
                for p in parts:
                    inner = p.this if isinstance(p, exp.Ordered) else p
                    if isinstance(inner, exp.Paren):
                        yield unit.offset_of(inner), f"{MYSQL}: functional key part ((expr))"
            if isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Values):
                if tree.expression.args.get("alias"):
                    yield (
                        unit.offset_of(tree.expression),
                        f"{MYSQL}: INSERT … AS alias row alias (use VALUES(col))",
                    )

    @staticmethod
    def _collation(t: Token) -> Iterator[tuple[int, str]]:
        text = t.text.strip("`'\"").lower()
        if "_0900_" in text:
            yield t.offset, f"{MYSQL}: collation {text} (MariaDB: utf8mb4_unicode_ci)"
        elif "uca1400" in text:
            yield t.offset, f"{MARIADB}: collation {text} (MySQL: utf8mb4_0900_ai_ci)"


_NOT_A_COLUMN_NAME = {"ADD", "COLUMN", "MODIFY", "CHANGE", "EXISTS", "DROP"}


def _is_column_type(toks: list[Token], i: int) -> bool:
    """``name TYPE`` inside a column list or after ADD/MODIFY [COLUMN]."""
    if i < 2 or toks[i - 1].kind not in ("word", "quoted"):
        return False
    if toks[i - 1].kind == "word" and toks[i - 1].upper in _NOT_A_COLUMN_NAME:
        return False  # ADD COLUMN uuid …: here `uuid` is the name
    before = toks[i - 2]
    return before.text in ("(", ",") or before.upper in ("ADD", "COLUMN", "MODIFY")
