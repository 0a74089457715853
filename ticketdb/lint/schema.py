"""The schema model the rules check against: tables, views, columns, indexes, foreign keys and
partitioning, built by applying statements in order (CREATE/ALTER/DROP/RENAME TABLE, CREATE/DROP
INDEX, CREATE VIEW). Migrations are applied in version order, so a statement is checked against
the schema as it is *at that point*; linted object files add their CREATEs on top. What one
table holds (columns, indexes, foreign keys): ticketdb.lint.tables.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field

from sqlglot import exp

from ticketdb.lint.parse.model import ParsedStatement, Partitioning
from ticketdb.lint.tables import Column, ForeignKey, Index, Table, column_from_def

#: ``CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name`` inside a string: dynamic SQL (PREPARE)
_DYNAMIC_CREATE = re.compile(
    r"\bCREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?:`?\w+`?\.)?`?(?P<name>\w+)`?",
    re.IGNORECASE,
)


@dataclass
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)
    #: (table, column or "") -> (path, offset) of the last statement that dropped/changed it
    touched: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    #: procedures and functions: lower name -> (kind, number of parameters)
    routines: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: every table/view that existed at any point (dropped ones included), by lower name:
    #: routine bodies bind their tables when they run, not where they are defined
    seen: dict[str, Table] = field(default_factory=dict)
    #: procedures/functions dropped and not created again since: lower name -> offset of DROP
    dropped_routines: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: databases whose qualified names are this schema's own (``USE db``, ``CREATE TABLE db.t``)
    own_databases: set[str] = field(default_factory=set)

    def ever(self) -> Schema:
        """Every table that existed at any point, each as last seen (current ones win)."""
        return Schema({**self.seen, **self.tables}, routines=self.routines,
                      own_databases=self.own_databases)  # fmt: skip

    def is_own(self, db: str) -> bool:
        return db.lower() in self.own_databases

    def copy(self) -> Schema:
        return copy.deepcopy(self)

    def take(self, other: Schema) -> None:
        """Become ``other``, in place (the run holds this object): a parallel check's worker
        sends back the schema as its segment left it."""
        vars(self).clear()
        vars(self).update(vars(other))

    def table(self, name: str) -> Table | None:
        return self.tables.get(name.lower())

    # -- applying statements ---------------------------------------------------------------
    _path: str = ""

    def apply(self, ps: ParsedStatement, path: str = "") -> None:
        self._path = path
        self._dynamic_tables(ps, path)
        words = ps.words
        if words[:1] == ["USE"] and len(ps.tokens) > 1:
            self.own_databases.add(_ident_text(ps.tokens[1].text).lower())
        if words[:1] == ["DROP"] and any(w in ("PROCEDURE", "FUNCTION") for w in words[1:3]):
            name_tok = next(
                (t for t in ps.tokens[2:] if t.kind in ("word", "quoted")
                 and t.upper not in ("PROCEDURE", "FUNCTION", "IF", "EXISTS")), None
            )  # fmt: skip
            if name_tok is not None:
                self.dropped_routines[_ident_text(name_tok.text).lower()] = (path, ps.offset)
        if ps.routine is not None:
            self.dropped_routines.pop(ps.routine.name.lower(), None)
            self.add_routine(ps)
            # a body's DROP/RENAME depend on run-time state; only its CREATEs add names
            for nested in ps.routine.nested:
                if nested.words[:1] == ["CREATE"]:
                    before = set(self.tables)
                    self.apply(nested, path)
                    for key in set(self.tables) - before:
                        # made at run time (scratch/shadow tables): known names, but the
                        # whole-schema rules judge the tables the migrations define
                        self.tables[key].temporary = True
            return
        for old, new in ps.renames:
            self._rename(old, new, path, ps.offset)
        tree = ps.tree
        if isinstance(tree, exp.Create):
            kind = (tree.args.get("kind") or "").upper()
            if kind == "TABLE":
                self._create_table(tree, ps, path)
            elif kind == "VIEW":
                self._create_view(tree, ps, path)
            elif kind == "INDEX":
                self._create_index(tree, ps)
        elif isinstance(tree, exp.Drop):
            self._drop(tree, path, ps.offset)
        elif isinstance(tree, exp.Alter):
            self._alter(tree, ps, path)
        elif ps.startswith("ALTER", "TABLE") and ps.partitioning:
            t = self.table(_ident_text(ps.tokens[2].text))
            if t:
                t.partitioning = dataclasses.replace(ps.partitioning, path=path)

    def _dynamic_tables(self, ps: ParsedStatement, path: str) -> None:
        """Tables created through PREPARE from a string: known names, columns unknown."""
        if "TABLE" not in ps.text.upper():
            return  # one C-speed look instead of one per token for most statements
        for t in ps.tokens:
            if t.kind == "string" and "TABLE" in t.upper:
                for m in _DYNAMIC_CREATE.finditer(t.text):
                    key = m.group("name").lower()
                    if key not in self.seen and key not in self.tables:
                        self.seen[key] = Table(m.group("name"), opaque=True, temporary=True,
                                               path=path, offset=t.offset)  # fmt: skip

    def _remember(self, t: Table) -> None:
        self.seen[t.name.lower()] = t

    def add_routine(self, ps: ParsedStatement) -> None:
        entry = routine_entry(ps)
        if entry is not None:
            self.routines[entry[0]] = entry[1]

    def _rename(self, old: str, new: str, path: str, offset: int) -> None:
        t = self.tables.pop(old.lower(), None)
        if t is not None:
            t.name = new
            self.tables[new.lower()] = t
            self._remember(t)
            self.touched[(old.lower(), "")] = (path, offset)

    def _create_table(self, tree: exp.Create, ps: ParsedStatement, path: str) -> None:
        target = tree.this
        table_node = target.this if isinstance(target, exp.Schema) else target
        if not isinstance(table_node, exp.Table):
            return
        name = table_node.name
        if tree.args.get("exists") and self.table(name):
            return
        t = Table(name, path=path, offset=ps.offset, partitioning=ps.partitioning)
        props = tree.args.get("properties")
        t.temporary = bool(props and props.find(exp.TemporaryProperty))
        like = props.find(exp.LikeProperty) if props else None
        if like is not None:
            src = self.table(like.this.name)
            if src is None:
                t.opaque = True
            else:
                t = copy.deepcopy(src)
                t.name, t.path, t.offset = name, path, ps.offset
        if isinstance(target, exp.Schema):
            for e in target.expressions:
                self._table_element(t, e, ps)
        query = tree.args.get("expression")
        if isinstance(query, exp.Query):
            cols = self.output_columns(query)
            if cols is None:
                t.opaque = True
            else:
                for c in cols:
                    t.columns.setdefault(c.lower(), Column(c))
        db = table_node.args.get("db")
        if db is not None and db.name:
            self.own_databases.add(db.name.lower())
        self.tables[name.lower()] = t
        self._remember(t)

    def _table_element(self, t: Table, e: exp.Expression, ps: ParsedStatement) -> None:
        n_idx, n_fk = len(t.indexes), len(t.fks)
        self._element(t, e, ps)
        for item in [*t.indexes[n_idx:], *t.fks[n_fk:]]:
            item.path = self._path

    def _element(self, t: Table, e: exp.Expression, ps: ParsedStatement) -> None:
        offset = _offset(ps, e)
        if isinstance(e, exp.ColumnDef):
            col = column_from_def(e, offset)
            for c in e.constraints:
                kind = c.kind
                if isinstance(kind, exp.PrimaryKeyColumnConstraint):
                    t.indexes.append(Index("PRIMARY", [e.name.lower()], "PRIMARY", offset))
                elif isinstance(kind, exp.UniqueColumnConstraint):
                    t.indexes.append(Index(e.name, [e.name.lower()], "UNIQUE", offset))
            t.columns[e.name.lower()] = col
            return
        if isinstance(e, exp.Constraint):
            for inner in e.expressions:
                if isinstance(inner, exp.ForeignKey):
                    self._fk(t, inner, e.name or None, offset)
                else:
                    self._table_element(t, inner, ps)
            return
        if isinstance(e, exp.PrimaryKey):
            t.indexes.append(Index("PRIMARY", _parts(e.expressions), "PRIMARY", offset,
                                   prefixes=_prefixes(e.expressions)))  # fmt: skip
        elif isinstance(e, exp.UniqueColumnConstraint):
            s = e.this
            name = s.this.name if isinstance(s, exp.Schema) and s.this else None
            cols = _parts(s.expressions) if isinstance(s, exp.Schema) else []
            prefixes = _prefixes(s.expressions) if isinstance(s, exp.Schema) else {}
            t.indexes.append(Index(name, cols, "UNIQUE", offset, prefixes=prefixes))
        elif isinstance(e, exp.IndexColumnConstraint):
            kind = (e.args.get("kind") or "INDEX").upper()
            name = e.this.name if e.this else None
            t.indexes.append(Index(name, _parts(e.expressions), kind, offset,
                                   prefixes=_prefixes(e.expressions)))  # fmt: skip
        elif isinstance(e, exp.ForeignKey):
            self._fk(t, e, None, offset)

    def _fk(self, t: Table, fk: exp.ForeignKey, name: str | None, offset: int) -> None:
        ref = fk.args.get("reference")
        ref_schema = ref.this if ref is not None else None
        ref_node = ref_schema.this if isinstance(ref_schema, exp.Schema) else ref_schema
        ref_table = ref_node.name if ref_node is not None else ""
        ref_cols = _parts(ref_schema.expressions) if isinstance(ref_schema, exp.Schema) else []
        db = ref_node.args.get("db") if isinstance(ref_node, exp.Table) else None
        ref_db = db.name if db is not None and not self.is_own(db.name) else ""
        t.fks.append(
            ForeignKey(name, _parts(fk.expressions), ref_table, ref_cols, offset, ref_db=ref_db)
        )

    def _create_view(self, tree: exp.Create, ps: ParsedStatement, path: str) -> None:
        name = tree.this.name if isinstance(tree.this, exp.Table) else ""
        t = Table(name, view=True, path=path, offset=ps.offset)
        query = tree.args.get("expression")
        cols = self.output_columns(query) if isinstance(query, exp.Query) else None
        if ps.view_columns:
            cols = ps.view_columns
        if cols is None:
            t.opaque = True
        else:
            t.columns = {c.lower(): Column(c) for c in cols}
        self.tables[name.lower()] = t
        self._remember(t)

    def output_columns(self, query: exp.Query) -> list[str] | None:
        """Column names a query produces, or None when they cannot be known."""
        if isinstance(query, exp.SetOperation):
            return self.output_columns(query.left) if isinstance(query.left, exp.Query) else None
        if not isinstance(query, exp.Select):
            return None
        out: list[str] = []
        for e in query.expressions:
            if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star):
                qualifier = e.table if isinstance(e, exp.Column) else ""
                expanded = self._expand_star(query, qualifier)
                if expanded is None:
                    return None
                out.extend(expanded)
            elif e.alias_or_name:
                out.append(e.alias_or_name)
            else:
                return None
        return out

    def _expand_star(self, query: exp.Select, qualifier: str) -> list[str] | None:
        cols: list[str] = []
        sources = [query.args.get("from_")] + list(query.args.get("joins") or [])
        for src in sources:
            node = src.this if src is not None else None
            if not isinstance(node, exp.Table):
                return None
            if qualifier and qualifier.lower() not in (
                node.name.lower(),
                node.alias_or_name.lower(),
            ):
                continue
            t = self.table(node.name)
            if t is None or t.opaque:
                return None
            cols.extend(c.name for c in t.columns.values())
        return cols

    def _create_index(self, tree: exp.Create, ps: ParsedStatement) -> None:
        idx = tree.this
        if not isinstance(idx, exp.Index):
            return
        t = self.table(idx.args["table"].name) if idx.args.get("table") else None
        if t is None:
            return
        params = idx.args.get("params")
        parts = params.args.get("columns") or [] if params else []
        cols = _parts(parts)
        kind = "UNIQUE" if tree.args.get("unique") else "INDEX"
        if "FULLTEXT" in ps.words[:3]:
            kind = "FULLTEXT"
        if t.primary is None or idx.name.lower() != "primary":
            t.indexes = [i for i in t.indexes if (i.name or "").lower() != idx.name.lower()]
        t.indexes.append(Index(idx.name, cols, kind, _offset(ps, idx), self._path,
                               prefixes=_prefixes(parts)))  # fmt: skip

    def _drop(self, tree: exp.Drop, path: str, offset: int) -> None:
        kind = (tree.args.get("kind") or "").upper()
        if kind in ("TABLE", "VIEW"):
            for tbl in tree.expressions or tree.args.get("tables") or []:
                if self.tables.pop(tbl.name.lower(), None) is not None:
                    self.touched[(tbl.name.lower(), "")] = (path, offset)
        elif kind == "INDEX":
            on = tree.args.get("cluster")
            t = self.table(on.this.name) if isinstance(on, exp.OnProperty) else None
            names = {x.name.lower() for x in tree.args.get("tables") or []}
            if t is not None:
                t.indexes = [i for i in t.indexes if (i.name or "").lower() not in names]

    def _alter(self, tree: exp.Alter, ps: ParsedStatement, path: str) -> None:
        if not isinstance(tree.this, exp.Table):
            return
        t = self.table(tree.this.name)
        if t is None:
            return
        if ps.partitioning is not None:
            t.partitioning = dataclasses.replace(ps.partitioning, path=path)
        if ps.remove_partitioning:
            t.partitioning = None
        for prop in tree.args.get("options") or []:
            if isinstance(prop, exp.PartitionedByProperty | exp.PartitionByRangeProperty):
                t.partitioning = t.partitioning or Partitioning("RANGE", [], ps.offset)
        for action in tree.args.get("actions") or []:
            self._alter_action(t, action, ps, path)

    def _alter_action(self, t: Table, a: exp.Expression, ps: ParsedStatement, path: str) -> None:
        key = t.name.lower()
        offset = _offset(ps, a)
        if isinstance(a, exp.ColumnDef):
            if a.args.get("exists") and a.name.lower() in t.columns:
                return
            self._table_element(t, a, ps)
        elif isinstance(a, exp.ModifyColumn):
            cd = a.this
            old = a.args.get("rename_from")
            old_name = (old.name if old is not None else cd.name).lower()
            cols = list(t.columns.items())
            new_col = column_from_def(cd, offset)
            t.columns = {
                (cd.name.lower() if k == old_name else k): (new_col if k == old_name else v)
                for k, v in cols
            }
            if old_name != cd.name.lower():
                _rename_in_indexes(t, old_name, cd.name.lower())
            self.touched[(key, old_name)] = (path, offset)
        elif isinstance(a, exp.RenameColumn):
            old_name, new = a.this.name.lower(), a.args["to"].name
            if old_name in t.columns:
                col = t.columns[old_name]
                col.name = new
                t.columns = {(new.lower() if k == old_name else k): v for k, v in t.columns.items()}
                _rename_in_indexes(t, old_name, new.lower())
                self.touched[(key, old_name)] = (path, offset)
        elif isinstance(a, exp.Drop):
            kind = (a.args.get("kind") or "").upper()
            names = [x.name.lower() for x in a.args.get("tables") or []]
            if kind == "COLUMN":
                for n in names:
                    t.columns.pop(n, None)
                    self.touched[(key, n)] = (path, offset)
                    for i in t.indexes:
                        i.columns = [c for c in i.columns if c != n]
                    t.indexes = [i for i in t.indexes if i.columns]
            elif kind == "INDEX":
                t.indexes = [i for i in t.indexes if (i.name or "").lower() not in names]
            elif kind in ("FOREIGN KEY", "CONSTRAINT"):
                t.fks = [f for f in t.fks if (f.name or "").lower() not in names]
                t.indexes = [i for i in t.indexes if (i.name or "").lower() not in names]
        elif isinstance(a, exp.DropPrimaryKey):
            t.indexes = [i for i in t.indexes if i.kind != "PRIMARY"]
        elif isinstance(a, exp.AddConstraint):
            for e in a.expressions:
                self._table_element(t, e, ps)
        elif isinstance(a, exp.RenameIndex):
            for i in t.indexes:
                if (i.name or "").lower() == a.this.name.lower():
                    i.name = a.args["to"].name
        elif isinstance(a, exp.AlterRename):
            self._rename(t.name, a.this.name, path, offset)


def _rename_in_indexes(t: Table, old: str, new: str) -> None:
    for i in t.indexes:
        i.columns = [new if c == old else c for c in i.columns]


def _parts(parts: list[exp.Expression]) -> list[str]:
    """Column names of an index/key part list (prefixes and DESC dropped)."""
    out = []
    for p in parts:
        while isinstance(p, exp.Ordered | exp.ColumnPrefix):
            p = p.this
        if isinstance(p, exp.Identifier | exp.Column):
            out.append(p.name.lower())
        else:
            out.append(f"({p.sql('mysql')})")
    return out


def _prefixes(parts: list[exp.Expression]) -> dict[str, int]:
    """Key prefix lengths: ``body(200)`` -> {"body": 200}."""
    out: dict[str, int] = {}
    for p in parts:
        while isinstance(p, exp.Ordered):
            p = p.this
        if isinstance(p, exp.ColumnPrefix) and isinstance(p.expression, exp.Literal):
            try:
                out[p.this.name.lower()] = int(p.expression.this)
            except ValueError:
                continue
    return out


def _offset(ps: ParsedStatement, node: exp.Expression) -> int:
    unit = ps.units[0] if ps.units else None
    return unit.offset_of(node) if unit is not None else ps.offset


def _ident_text(text: str) -> str:
    return text[1:-1] if text.startswith("`") else text


def routine_entry(ps: ParsedStatement) -> tuple[str, tuple[str, int]] | None:
    """What :meth:`Schema.add_routine` records for ``ps``: (lower name, (kind, parameters))."""
    r = ps.routine
    if r is not None and r.kind in ("PROCEDURE", "FUNCTION"):
        return r.name.lower(), (r.kind, r.param_count)
    return None


def apply_quietly(schema: Schema, st: ParsedStatement, display: str) -> None:
    """Apply ``st`` in a pass that reports nothing (the checked pass applies the same
    statement and reports what fails)."""
    try:
        schema.apply(st, display)
    except Exception:
        pass
