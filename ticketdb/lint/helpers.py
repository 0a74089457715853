"""Small helpers the rules share (kept out of rules/ so that folder holds only rules)."""

from __future__ import annotations

import copy

from ticketdb.lint.context import StatementContext
from ticketdb.lint.parse.model import ParsedStatement
from ticketdb.lint.resolve import Problem, check_unit
from ticketdb.lint.schema import Schema
from ticketdb.lint.tables import Table


def problems(ctx: StatementContext) -> list[Problem]:
    """Unresolved table/column references of a statement (routine bodies included), computed
    once per statement and shared by the unknown-table and unknown-column rules."""
    cached = ctx.cache.get("problems")
    if cached is None:
        st = ctx.statement
        run = ctx.whole_run
        # a query runs in a session, like a body: it may use another query's temporary table
        # whatever the file order
        body = st.routine is not None or ctx.file.role == "query"
        nested = st.routine is not None and bool(st.routine.nested)
        if body and run is not None and not run.ready and not nested:
            # the schema here first: when it has every name the statement looks up, the
            # whole run's tables (which the schema here overrides) change nothing
            probe = _Probe(ctx.schema)
            cached = _check(st, probe)
            if probe.missed:
                cached = None
        if cached is None:
            schema = body_schema(ctx) if body else ctx.schema
            if nested:
                schema = routine_schema(ctx, schema)
            cached = _check(st, schema)
        ctx.cache["problems"] = cached
    return cached  # type: ignore[return-value]


def _check(st: ParsedStatement, schema: Schema) -> list[Problem]:
    out: list[Problem] = []
    for unit in st.units:
        out.extend(check_unit(unit, schema, st.routine))
    return out


class _Probe(Schema):
    """A schema's tables and databases (shared, not copied) that notes a name it lacks: all
    that ticketdb.lint.resolve asks of a schema goes through ``table`` and ``is_own``."""

    def __init__(self, schema: Schema) -> None:
        super().__init__(schema.tables, routines=schema.routines,
                         own_databases=schema.own_databases)  # fmt: skip
        self.missed = False

    def table(self, name: str) -> Table | None:
        found = super().table(name)
        self.missed = self.missed or found is None
        return found

    def is_own(self, db: str) -> bool:
        own = super().is_own(db)
        self.missed = self.missed or not own
        return own


def body_schema(ctx: StatementContext) -> Schema:
    """What a body binds when it runs: the tables here, plus every table of the whole run (made
    later in this file, in a later file, as a temporary table or by dynamic SQL)."""
    if ctx.whole_run is None:
        return ctx.schema
    run = ctx.whole_run.schema
    return Schema(
        {**run.tables, **ctx.schema.tables},
        routines=ctx.schema.routines,
        own_databases=ctx.schema.own_databases | run.own_databases,
    )


def in_versioned_migration(ctx: StatementContext) -> bool:
    return ctx.file.role == "migration"


def routine_schema(ctx: StatementContext, base: Schema) -> Schema:
    """The schema a routine body sees: every table its body creates or renames something to
    is known everywhere in the body (the body's own DROP/RENAME depend on run-time state)."""
    st = ctx.statement
    assert st.routine is not None
    schema = base.copy()
    for nested in st.routine.nested:
        if nested.words[:1] == ["CREATE"]:
            schema.apply(nested)
        for old, new in nested.renames:
            src = schema.table(old)
            if src is not None and schema.table(new) is None:
                schema.tables[new.lower()] = copy.deepcopy(src)
    return schema
