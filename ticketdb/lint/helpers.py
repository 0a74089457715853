"""Small helpers the rules share (kept out of rules/ so that folder holds only rules)."""

from __future__ import annotations

import copy

from ticketdb.lint.context import StatementContext
from ticketdb.lint.resolve import Problem, check_unit
from ticketdb.lint.schema import Schema


def problems(ctx: StatementContext) -> list[Problem]:
    """Unresolved table/column references of a statement (routine bodies included), computed
    once per statement and shared by the unknown-table and unknown-column rules."""
    cached = ctx.cache.get("problems")
    if cached is None:
        st = ctx.statement
        schema = ctx.schema
        if st.routine is not None or ctx.file.role == "query":
            # a query runs in a session, like a body: it may use another query's temporary
            # table whatever the file order
            schema = body_schema(ctx)
            if st.routine is not None and st.routine.nested:
                schema = routine_schema(ctx, schema)
        out: list[Problem] = []
        for unit in st.units:
            out.extend(check_unit(unit, schema, st.routine))
        ctx.cache["problems"] = cached = out
    return cached  # type: ignore[return-value]


def in_versioned_migration(ctx: StatementContext) -> bool:
    return ctx.file.role == "migration"


def body_schema(ctx: StatementContext) -> Schema:
    """What a body binds when it runs: the tables here, plus every table of the whole run (made
    later in this file, in a later file, as a temporary table or by dynamic SQL)."""
    if ctx.run_schema is None:
        return ctx.schema
    return Schema(
        {**ctx.run_schema.tables, **ctx.schema.tables},
        routines=ctx.schema.routines,
        own_databases=ctx.schema.own_databases | ctx.run_schema.own_databases,
    )


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
