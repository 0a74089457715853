"""What the online-DDL rules share: which table a DDL statement changes, whether that table
already existed before this migration (so it may be big and busy), and an ALTER TABLE's actions
as token lists (sqlglot skips the ones it cannot represent: ENGINE=, PARTITION BY, CONVERT TO …).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.parse.model import ParsedStatement
from ticketdb.lint.parse.unit import ident
from ticketdb.lint.schema import Schema
from ticketdb.lint.tables import Table
from ticketdb.sqlscript import Token

#: what ``migrate up`` does with a blocking ALTER (ticketdb.migrate.online.route), for messages
MIGRATE_UP_DOES = (
    "`migrate up` runs it online through pt-online-schema-change above the size threshold "
    "(directly below it), refused without --allow-blocking when the copy is impossible"
)

DDL_STARTS = {"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"}
DML_STARTS = {"INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD"}
TRANSACTION_WORDS = {"COMMIT", "ROLLBACK", "START", "BEGIN", "XA"}


@dataclass
class Action:
    tokens: list[Token]

    @property
    def offset(self) -> int:
        return self.tokens[0].offset

    @property
    def words(self) -> list[str]:
        return [t.upper for t in self.tokens if t.kind == "word"]

    def has(self, *words: str) -> bool:
        """Do these words appear next to each other (ignoring punctuation such as ``=``)?"""
        ws = self.words
        n = len(words)
        return any(ws[i : i + n] == list(words) for i in range(len(ws) - n + 1))


@dataclass
class AlterTable:
    table: str
    offset: int
    actions: list[Action] = field(default_factory=list)
    algorithm: str | None = None
    lock: str | None = None


def alter_table(ps: ParsedStatement) -> AlterTable | None:
    """``ALTER [ONLINE|IGNORE] TABLE [db.]name action, action …`` split at top-level commas."""
    toks = ps.tokens
    if not toks or toks[0].upper != "ALTER":
        return None
    i = 1
    while i < len(toks) and toks[i].upper in ("ONLINE", "OFFLINE", "IGNORE"):
        i += 1
    if i >= len(toks) or toks[i].upper != "TABLE" or i + 1 >= len(toks):
        return None
    i += 1
    if toks[i].upper == "IF" and i + 2 < len(toks):  # MariaDB's ALTER TABLE IF EXISTS
        i += 2
    name_tok = toks[i]
    i += 1
    if i + 1 < len(toks) and toks[i].text == ".":
        name_tok = toks[i + 1]
        i += 2
    out = AlterTable(ident(name_tok.text), ps.offset)
    current: list[Token] = []
    depth = 0
    for t in toks[i:]:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        if t.text == "," and depth == 0:
            if current:
                out.actions.append(Action(current))
            current = []
        else:
            current.append(t)
    if current:
        out.actions.append(Action(current))
    for a in out.actions:
        ws = a.words
        if ws[:1] == ["ALGORITHM"] and len(ws) > 1:
            out.algorithm = ws[1]
        elif ws[:1] == ["LOCK"] and len(ws) > 1:
            out.lock = ws[1]
    out.actions = [a for a in out.actions if a.words[:1] not in (["ALGORITHM"], ["LOCK"])]
    return out


def index_target(ps: ParsedStatement) -> str | None:
    """The table of ``CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX … ON t`` / ``DROP INDEX … ON t``."""
    ws = ps.words
    if not ws or ws[0] not in ("CREATE", "DROP") or "INDEX" not in ws[:3]:
        return None
    toks = ps.tokens
    for k, t in enumerate(toks[:-1]):
        if t.upper == "ON" and t.kind == "word":
            j = k + 1
            if j + 2 < len(toks) and toks[j + 1].text == ".":
                j += 2
            return ident(toks[j].text)
    return None


def stated_algorithm_lock(ps: ParsedStatement) -> tuple[str | None, str | None]:
    """``ALGORITHM [=] x`` and ``LOCK [=] y`` of an ALTER TABLE or CREATE/DROP INDEX."""
    alter = alter_table(ps)
    if alter is not None:
        return alter.algorithm, alter.lock
    found: dict[str, str] = {}
    toks = ps.tokens
    for k, t in enumerate(toks[:-1]):
        if t.kind == "word" and t.upper in ("ALGORITHM", "LOCK"):
            j = k + 2 if toks[k + 1].text == "=" else k + 1
            if j < len(toks):
                found[t.upper] = toks[j].upper
    return found.get("ALGORITHM"), found.get("LOCK")


def ddl_targets(ps: ParsedStatement) -> list[str]:
    """Tables a DDL statement changes (ALTER, CREATE/DROP INDEX, RENAME, DROP/TRUNCATE)."""
    alter = alter_table(ps)
    if alter is not None:
        return [alter.table]
    target = index_target(ps)
    if target is not None:
        return [target]
    if ps.renames:
        return [old for old, _ in ps.renames]
    ws = ps.words
    if ws[:1] == ["TRUNCATE"]:
        toks = [t for t in ps.tokens[1:] if t.upper != "TABLE"]
        return [ident(toks[0].text)] if toks else []
    return []


def existing(schema: Schema, name: str, path: str) -> Table | None:
    """The table, when it existed before this migration file (a table this file creates is
    new and empty: changing it is cheap)."""
    t = schema.table(name)
    if t is None or t.view or t.temporary or t.path == path:
        return None
    return t


def existing_in(ctx: StatementContext, name: str) -> Table | None:
    if ctx.file.role != "migration":
        return None
    return existing(ctx.schema, name, ctx.file.display)


@dataclass
class ExistingAlter:
    """An ``ALTER TABLE`` (sqlglot's tree) of a table that existed before this migration."""

    statement: ParsedStatement
    tree: exp.Alter
    table: Table

    @property
    def actions(self) -> list[exp.Expression]:
        return self.tree.args.get("actions") or []

    def offset_of(self, node: exp.Expression) -> int:
        """Where ``node`` stands in the file (the statement's start when nothing says)."""
        st = self.statement
        return st.units[0].offset_of(node) if st.units else st.offset


def existing_alter(ctx: StatementContext) -> ExistingAlter | None:
    """The statement as an ALTER TABLE of an existing (so maybe big and busy) table, else None:
    the preamble of the rules that judge column changes by what the table held before."""
    tree = ctx.statement.tree
    if not isinstance(tree, exp.Alter) or not isinstance(tree.this, exp.Table):
        return None
    table = existing_in(ctx, tree.this.name)
    if table is None:
        return None
    return ExistingAlter(ctx.statement, tree, table)


def earlier(ctx: StatementContext) -> list[ParsedStatement]:
    """The statements of this file before the current one."""
    out = []
    for st in ctx.file.statements:
        if st is ctx.statement:
            break
        out.append(st)
    return out
