"""Resolve table and column references of one parsed unit against the schema model.

sqlglot's ``qualify`` only covers SELECT; this walks ``exp.Table``/``exp.Column`` of any
statement (INSERT column lists, UPDATE SET, DELETE, DDL index parts, view queries, routine DML)
with the scope a reader expects: every table, alias, derived table and CTE of the statement is a
source; NEW./OLD. are the trigger's table; routine parameters, DECLAREd variables, @user
variables and select-list aliases are not columns. When a source's columns cannot be known
(a derived table over ``*``, a table function) unqualified names are given the benefit of the
doubt rather than reported.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlglot import exp

from ticketdb.lint.parse.model import Routine, Unit
from ticketdb.lint.schema import Schema
from ticketdb.lint.tables import Column, Table

_SKIP_TABLES = {"dual"}
_NOT_COLUMN_PARENTS = (
    exp.CollateColumnConstraint,
    exp.CharacterSetColumnConstraint,
    exp.Collate,
    exp.CharacterSet,
)

#: parents under which a Column node may be no column reference (checked one by one below)
_SPECIAL_PARENTS = (*_NOT_COLUMN_PARENTS, exp.Anonymous, exp.RenameColumn, exp.Drop)


@dataclass(frozen=True)
class Problem:
    kind: str  # table | column
    offset: int
    message: str


def _hint(name: str, candidates: list[str]) -> str:
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return f"; did you mean `{by_lower[close[0]]}`?" if close else ""


def _inside(node: exp.Expression, kinds: tuple[type[exp.Expression], ...]) -> bool:
    p = node.parent
    while p is not None:
        if isinstance(p, kinds):
            return True
        p = p.parent
    return False


def _not_table_refs(unit: Unit) -> set[int]:
    """ids of exp.Table nodes that name something other than an existing table."""
    skip: set[int] = set()
    kinds = (exp.Create, exp.Drop, exp.AlterRename, exp.Into, exp.Reference, exp.Delete)
    for node in unit.find_all(*kinds):
        if isinstance(node, exp.Create):
            kind = (node.args.get("kind") or "").upper()
            target = node.this.this if isinstance(node.this, exp.Schema) else node.this
            if kind != "INDEX" and isinstance(target, exp.Table):
                skip.add(id(target))  # the new table/view/database/sequence itself
        elif isinstance(node, exp.Drop):
            kind = (node.args.get("kind") or "").upper()
            if kind != "TABLE" and kind != "VIEW" or node.args.get("exists"):
                skip.update(id(t) for t in node.args.get("tables") or [])
        elif isinstance(node, exp.AlterRename):
            skip.add(id(node.this))
        elif isinstance(node, exp.Into):
            skip.update(id(t) for t in node.find_all(exp.Table))
        elif isinstance(node, exp.Reference):
            skip.update(id(t) for t in node.find_all(exp.Table))  # FK targets: see final schema
        elif isinstance(node, exp.Delete):
            skip.update(id(t) for t in node.args.get("tables") or [])
    return skip


class _Scope:
    def __init__(self) -> None:
        self.sources: dict[str, Table | None] = {}  # alias -> table (None = columns unknown)

    def add(self, alias: str, table: Table | None) -> None:
        self.sources[alias.lower()] = table


def check_unit(
    unit: Unit,
    schema: Schema,
    routine: Routine | None = None,
) -> Iterator[Problem]:
    tree = unit.tree
    if tree is None or isinstance(tree, exp.Command | exp.Use | exp.Transaction):
        return
    if isinstance(tree, exp.Drop | exp.Commit | exp.Rollback):
        yield from _tables(unit, tree, schema, _Scope(), set())
        return
    scope = _Scope()
    ctes: set[str] = set()
    for cte in unit.find_all(exp.CTE):
        ctes.add(cte.alias.lower())
        cols = schema.output_columns(cte.this) if isinstance(cte.this, exp.Query) else None
        col_names = [c.name for c in cte.args["alias"].columns] if cte.args.get("alias") else []
        names = col_names or cols
        scope.add(
            cte.alias, Table(cte.alias, {c.lower(): _col(c) for c in names}) if names else None
        )
    yield from _tables(unit, tree, schema, scope, ctes)
    for sub in unit.find_all(exp.Subquery, exp.Lateral, exp.Values, exp.JSONTable, exp.Unnest):
        alias = sub.alias if hasattr(sub, "alias") else ""
        if not alias:
            continue
        cols = None
        if isinstance(sub, exp.Subquery) and isinstance(sub.this, exp.Query):
            cols = schema.output_columns(sub.this)
        scope.add(alias, Table(alias, {c.lower(): _col(c) for c in cols}) if cols else None)
    own = _own_table(tree, schema)
    if own is not None:
        scope.add(own.name, own)
    if routine is not None and routine.kind == "TRIGGER" and routine.table:
        trig = schema.table(routine.table)
        scope_new = trig if trig is not None else None
        if "new" not in scope.sources:
            scope.sources["new"] = scope_new
        if "old" not in scope.sources:
            scope.sources["old"] = scope_new
    yield from _columns(unit, tree, scope, routine, schema.is_own)
    if own is not None and not own.opaque:
        # key parts sqlglot keeps as bare identifiers: PRIMARY KEY (…), FOREIGN KEY (…)
        for key in unit.find_all(exp.PrimaryKey, exp.ForeignKey):
            for part in key.expressions:
                while isinstance(part, exp.Ordered | exp.ColumnPrefix):
                    part = part.this
                if isinstance(part, exp.Identifier) and part.name.lower() not in own.columns:
                    what = "PRIMARY KEY" if isinstance(key, exp.PrimaryKey) else "FOREIGN KEY"
                    message = f"{what} names unknown column `{part.name}` of `{own.name}`"
                    yield Problem("column", unit.offset_of(part), message)
    if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
        target = schema.table(tree.this.this.name) if tree.this.this is not None else None
        for ident in tree.this.expressions:
            if target is not None and not target.has_column(ident.name):
                names = [c.name for c in target.columns.values()]
                message = f"unknown column `{ident.name}` in `{target.name}`"
                yield Problem("column", unit.offset_of(ident), message + _hint(ident.name, names))


def _col(name: str) -> Column:
    return Column(name)


def _own_table(tree: exp.Expression, schema: Schema) -> Table | None:
    """The table a CREATE TABLE / ALTER TABLE statement defines, as its columns will be."""
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
        target = tree.this.this
        t = Table(target.name if target is not None else "")
        for e in tree.this.expressions:
            if isinstance(e, exp.ColumnDef):
                t.columns[e.name.lower()] = _col(e.name)
        query = tree.args.get("expression")
        if isinstance(query, exp.Query):  # CREATE TABLE t (PRIMARY KEY (id)) SELECT id, …
            cols = schema.output_columns(query)
            if cols is None:
                t.opaque = True
            for c in cols or ():
                t.columns.setdefault(c.lower(), _col(c))
        return t
    if isinstance(tree, exp.Alter) and isinstance(tree.this, exp.Table):
        base = schema.table(tree.this.name)
        t = Table(tree.this.name, opaque=base is None or base.opaque)
        if base is not None:
            t.columns = dict(base.columns)
        for a in tree.args.get("actions") or []:
            if isinstance(a, exp.ColumnDef):
                t.columns[a.name.lower()] = _col(a.name)
            elif isinstance(a, exp.ModifyColumn):
                t.columns[a.this.name.lower()] = _col(a.this.name)
            elif isinstance(a, exp.RenameColumn):
                t.columns[a.args["to"].name.lower()] = _col(a.args["to"].name)
        return t
    return None


def _tables(
    unit: Unit,
    tree: exp.Expression,
    schema: Schema,
    scope: _Scope,
    ctes: set[str],
) -> Iterator[Problem]:
    skip = _not_table_refs(unit)
    for t in unit.find_all(exp.Table):
        if id(t) in skip:
            continue
        if isinstance(t.this, exp.Expression) and not isinstance(t.this, exp.Identifier):
            # a table function: JSON_TABLE declares its columns, others are unknown
            cols = [c.name for c in t.this.find_all(exp.JSONColumnDef)]
            known = Table(t.alias, {c.lower(): _col(c) for c in cols}) if cols else None
            if t.alias:
                scope.add(t.alias, known)
            continue
        if not t.name:
            continue
        db = t.args.get("db")
        if db is not None and not schema.is_own(db.name):
            # another schema (information_schema, mysql …): columns unknown
            scope.add(t.alias_or_name, None)
            continue
        name = t.name
        alias = t.alias_or_name
        if name.lower() in ctes:
            if alias.lower() != name.lower():
                scope.sources[alias.lower()] = scope.sources.get(name.lower())
            continue
        table = schema.table(name)
        if table is None and name.lower() not in _SKIP_TABLES:
            yield Problem("table", unit.offset_of(t), f"unknown table `{name}`" + _hint(
                name, [x.name for x in schema.tables.values()]))  # fmt: skip
        scope.add(alias, table)


def _columns(
    unit: Unit,
    tree: exp.Expression,
    scope: _Scope,
    routine: Routine | None,
    own: Callable[[str], bool] = lambda db: False,
) -> Iterator[Problem]:
    local = set()
    if routine is not None:
        local = routine.params | routine.variables
    aliases = {a.alias.lower() for a in unit.find_all(exp.Alias) if a.alias}
    is_set = isinstance(tree, exp.Set)
    # the sources an unqualified name may come from (the scope is complete by now)
    sources = {k: v for k, v in scope.sources.items() if k not in ("new", "old")}
    lenient = not sources or any(t is None or t.opaque for t in sources.values())
    into = bool(unit.find_all(exp.Into))  # SELECT … INTO targets are variables
    for col in unit.find_all(exp.Column):
        this = col.args.get("this")
        if isinstance(this, exp.Star) or into and _inside(col, (exp.Into,)):
            continue
        parent = col.parent
        if isinstance(parent, _SPECIAL_PARENTS):
            if isinstance(parent, _NOT_COLUMN_PARENTS):
                continue  # COLLATE utf8mb4_bin, CHARACTER SET x: names, not columns
            if isinstance(parent, exp.Anonymous) and parent.name.upper() == "GET_FORMAT":
                continue  # GET_FORMAT(DATE, 'ISO')
            if isinstance(parent, exp.RenameColumn) and col.arg_key == "to":
                continue
            if isinstance(parent, exp.Drop) and parent.args.get("exists"):
                continue
        name = this.this if type(this) is exp.Identifier else col.name
        if name.upper() == "DEFAULT" and not this.args.get("quoted"):
            continue  # SET c = DEFAULT
        if not name:
            continue
        qualifier = col.table
        if col.args.get("catalog"):
            continue
        col_db = col.args.get("db")
        if col_db is not None and not own(col_db.name):
            continue
        if qualifier:
            q = qualifier.lower()
            if q not in scope.sources:
                if q in ("new", "old") or routine is not None and q in local:
                    continue
                message = f"unknown table or alias `{qualifier}` in `{qualifier}.{name}`"
                yield Problem("column", unit.offset_of(col), message)
                continue
            table = scope.sources[q]
            if table is None or table.opaque or name.lower() in table.columns:
                continue
            yield Problem("column", unit.offset_of(col),
                          f"unknown column `{qualifier}.{name}` (table `{table.name}`)"
                          + _hint(name, [c.name for c in table.columns.values()]))  # fmt: skip
            continue
        low = name.lower()
        if low in local or low in aliases:
            continue
        if is_set and not _inside(col, (exp.Select,)):
            continue  # SET targets/values outside a query: variables
        if lenient:
            continue
        if any(low in t.columns for t in sources.values() if t is not None):
            continue
        tables = sorted({t.name for t in sources.values() if t is not None})
        where = f" in `{tables[0]}`" if len(tables) == 1 else f" in any of {', '.join(tables)}"
        candidates = [c.name for t in sources.values() if t is not None for c in t.columns.values()]
        yield Problem("column", unit.offset_of(col),
                      f"unknown column `{name}`{where}" + _hint(name, candidates))  # fmt: skip
