"""Report statements: the queries/*.sql files marked ``-- runner: report_run``, loaded into
``ticketdb_report_statements`` (migration 0046) for procedures/report_run.sql.

The SQL exists once, in queries/; a row is that file's SQL with each ``:name`` turned into ``?``
(ticketdb.app.queries does the turning, as it does for PyMySQL) plus the names in the order the
``?``s bind them. ``migrate up`` keeps the rows in step at head, like the repeatable objects but
by content, not only by checksum: a row whose SQL, names or checksum differ from its file is
rewritten, and a row whose file is gone (or no longer marked) is deleted. A row edited on the
server, which the definer-rights runner would execute, is so put back by the next ``up``, and
``drift`` shows it until then (ticketdb.drift.read compares the rows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ticketdb import catalog
from ticketdb.app.queries import load_query
from ticketdb.errors import TicketdbError
from ticketdb.migrate.repeatable import Change, checksum
from ticketdb.project import Project, read_sql_file

TABLE = "ticketdb_report_statements"
RUNNER = "report_run"
#: the procedure's EXECUTE … USING list is fixed text with this many variables
MAX_PLACEHOLDERS = 8
_COLUMNS = ("name", "sql_text", "params", "positions", "checksum", "path")


@dataclass(frozen=True)
class ReportStatement:
    name: str
    sql_text: str
    params: str  # JSON array of the names the caller passes, each once, sorted
    positions: str  # JSON array: the name each `?` binds, in order
    checksum: str
    path: str

    def row(self) -> tuple[str, ...]:
        return tuple(getattr(self, c) for c in _COLUMNS)


def load(project: Project) -> list[ReportStatement]:
    """Every marked query, checked; errors name the file (before anything touches the server)."""
    out = []
    for path in sorted(project.queries.glob("*.sql")):
        if "runner:" not in read_sql_file(path):  # unmarked queries are not this module's
            continue
        q = load_query(project, path.stem)
        if q.runner is None:
            continue
        if q.runner != RUNNER:
            raise TicketdbError(f"{q.path}: unknown runner {q.runner!r} (only {RUNNER})")
        if len(q.positions) > MAX_PLACEHOLDERS:
            raise TicketdbError(
                f"{q.path}: {len(q.positions)} placeholders; {RUNNER} binds at most "
                f"{MAX_PLACEHOLDERS} (bind a value once in a derived table and join it)"
            )
        if any(t.upper() == "TUPLE" for t in q.param_types.values()):
            raise TicketdbError(f"{q.path}: a TUPLE parameter cannot be bound to one `?`")
        out.append(
            ReportStatement(
                q.name,
                q.qmark,
                json.dumps(sorted(q.params)),
                json.dumps(list(q.positions)),
                checksum(q.text),
                f"{q.path.parent.name}/{q.path.name}",
            )
        )
    return out


def rows(conn: Any) -> dict[str, tuple[str, ...]]:
    """The loaded rows by name (empty before migration 0046)."""
    if not catalog.table_exists(conn, TABLE):
        return {}
    found = catalog.rows(conn, f"SELECT {', '.join(_COLUMNS)} FROM {TABLE}")
    return {str(r[0]): tuple(str(v) for v in r) for r in found}


def _literal(text: str) -> str:
    """A string literal whatever the sql_mode: quotes doubled, or hex when a backslash (whose
    meaning NO_BACKSLASH_ESCAPES changes) is in it."""
    if "\\" in text:
        return f"X'{text.encode().hex()}'"
    return "'" + text.replace("'", "''") + "'"


def replace_sql(row: tuple[str, ...]) -> str:
    """The statement that writes ``row`` (``drift --sql`` puts a row back with it)."""
    values = ", ".join(_literal(v) for v in row)
    return f"REPLACE INTO {TABLE} ({', '.join(_COLUMNS)}) VALUES ({values})"


def delete_sql(name: str) -> str:
    return f"DELETE FROM {TABLE} WHERE name = {_literal(name)}"


def plan(conn: Any, statements: list[ReportStatement]) -> list[Change]:
    """What :func:`sync` would change (kind ``REPORT``)."""
    loaded = rows(conn)
    changes = []
    for st in statements:
        old = loaded.get(st.name)
        if old is None:
            changes.append(Change("create", "REPORT", st.name, "new"))
        elif old != st.row():
            same_file = old[_COLUMNS.index("checksum")] == st.checksum
            reason = "edited on the server" if same_file else "file changed"
            changes.append(Change("replace", "REPORT", st.name, reason))
    wanted = {st.name for st in statements}
    changes += [Change("drop", "REPORT", n, "file removed") for n in sorted(set(loaded) - wanted)]
    return changes


def sync(conn: Any, statements: list[ReportStatement]) -> list[Change]:
    """Make the table hold exactly ``statements``, in one transaction; returns the changes."""
    if not catalog.table_exists(conn, TABLE):
        return []
    changes = plan(conn, statements)
    by_name = {st.name: st for st in statements}
    conn.begin()
    with conn.cursor() as cur:
        for change in changes:
            if change.action == "drop":
                cur.execute(f"DELETE FROM {TABLE} WHERE name = %s", (change.name,))
            else:
                cur.execute(
                    f"REPLACE INTO {TABLE} ({', '.join(_COLUMNS)}) VALUES "
                    f"({', '.join(['%s'] * len(_COLUMNS))})",
                    by_name[change.name].row(),
                )
    conn.commit()
    return changes
