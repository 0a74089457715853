"""Which way ``migrate up`` runs each ALTER of an existing table, and the refusals made first.

Per ALTER step (the statement as written, its own ALGORITHM=/LOCK= removed):

1. ``ALGORITHM=INSTANT`` appended: the server refuses at once when it cannot (1845/1846; no
   LOCK clause, MySQL 8 accepts only LOCK=DEFAULT with INSTANT);
2. on one server, ``ALGORITHM=INPLACE, LOCK=NONE`` (refused at once as well). On Galera an
   in-place rebuild still runs as one TOI operation that stalls every node for its duration, so
   there only INSTANT counts as online;
3. otherwise it is blocking: a table at or above ``online_min_rows`` rows or ``online_min_bytes``
   bytes (``[tool.ticketdb.migrate]`` in pyproject.toml; defaults 10,000 and 64 MiB, the
   server's estimates) is altered by an online copy (ticketdb.migrate.online.engine), a
   smaller one directly (as written), and ``--allow-blocking`` runs it directly on purpose.

:func:`preflight` runs before the first migration: it proves each pending ALTER's algorithm on an
empty copy (ticketdb.migrate.ddlcheck) and refuses — before anything changes — the blocking
ALTERs of big tables that the online copy cannot do.
"""

from __future__ import annotations

import copy
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
from yoyo.migrations import Migration

from ticketdb import catalog
from ticketdb.db import connection, error_code, quote_ident, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.lint.online import alter_table
from ticketdb.lint.parse.files import load
from ticketdb.lint.parse.model import ParsedStatement
from ticketdb.migrate import ddlcheck, progress
from ticketdb.migrate.ddlcheck import REFUSED, _rewrite, human_bytes
from ticketdb.migrate.online import engine, ptosc
from ticketdb.project import Project
from ticketdb.server import galera

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: a direct table copy measured here (shared/NOTES.md: 300k tickets in 1.36 s)
DIRECT_COPY_ROWS_PER_S = 200_000
_PARTITION_WORDS = {"PARTITION", "PARTITIONING", "REORGANIZE", "COALESCE", "EXCHANGE"}


@dataclass(frozen=True)
class Config:
    online_min_rows: int = 10_000
    online_min_bytes: int = 64 * 1024 * 1024

    @classmethod
    def of(cls, project: Project) -> Config:
        path = project.root / "pyproject.toml"
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise TicketdbError(f"{path}: {exc}") from None
        section = data.get("tool", {}).get("ticketdb", {}).get("migrate", {})
        return cls(
            int(section.get("online_min_rows", cls.online_min_rows)),
            int(section.get("online_min_bytes", cls.online_min_bytes)),
        )

    def big(self, rows: int | None, size: int | None) -> bool:
        return (rows or 0) >= self.online_min_rows or (size or 0) >= self.online_min_bytes


@dataclass(frozen=True)
class Alter:
    """One ALTER TABLE statement: its table and actions (without ALGORITHM=/LOCK=)."""

    statement: ParsedStatement
    table: str
    actions: str

    @property
    def touches_partitions(self) -> bool:
        return bool(_PARTITION_WORDS & set(self.statement.words))

    @property
    def first_line(self) -> str:
        return self.statement.text.strip().splitlines()[0]


def parse_alter(sql: str) -> Alter | None:
    """The step as an ALTER TABLE of one (unqualified) table, else None."""
    src = load(Path("step.sql"), "step", text=sql)
    if len(src.statements) != 1:
        return None
    st = src.statements[0]
    alt = alter_table(st)
    if alt is None or not alt.actions or ddlcheck._qualified(st):
        return None
    base, text = st.offset, st.text
    parts = [
        text[a.offset - base : a.tokens[-1].offset - base + len(a.tokens[-1].text)]
        for a in alt.actions
    ]
    return Alter(st, alt.table, ", ".join(parts))


def step_sql(step: Any, direction: str) -> str | None:
    """The SQL text of a yoyo step (None for a Python step)."""
    inner = getattr(step, "step", step)
    sql = getattr(inner, "_apply" if direction == "apply" else "_rollback", None)
    return sql if isinstance(sql, str) else None


def table_size(conn: Any, table: str, at_least: int | None = None) -> tuple[int | None, int | None]:
    """The server's estimates: rows, data + index bytes. With ``at_least``, an estimate below
    it is checked by counting (at most ``at_least`` rows): the estimate of a table a copy has
    just rebuilt can be 0 (a second ALTER of it in the same run would then pass as small)."""
    rows, size = catalog.table_size(conn, table)
    if at_least is not None and rows is not None and rows < at_least:
        counted = scalar(conn, f"SELECT COUNT(*) FROM (SELECT 1 FROM {quote_ident(table)} "
                               f"LIMIT {int(at_least)}) AS bounded")  # fmt: skip
        rows = max(rows, int(counted or 0))
    return rows, size


def lock_estimate(rows: int | None) -> str:
    secs = max((rows or 0) / DIRECT_COPY_ROWS_PER_S, 0.1)
    return f"~{secs:.1f}s at {DIRECT_COPY_ROWS_PER_S:,} rows/s"


def _try(cur: Any, sql: str) -> bool:
    """Run it; False when the server refuses the requested ALGORITHM/LOCK (nothing ran)."""
    try:
        cur.execute(sql)
    except pymysql.err.MySQLError as exc:
        if error_code(exc) in REFUSED:
            return False
        raise
    return True


class Executor:
    """Runs yoyo steps for ``progress.run``: ALTERs of existing tables by their path.
    ``guard`` raises when the run may no longer go on (the migrate lease was lost): an online
    copy checks it while it waits for pt-online-schema-change. :meth:`undoing` gives the one
    that undoes a failed run's steps: the same paths, but a blocking ALTER the copy cannot do
    runs directly (with a warning) rather than leaving the migration half-done."""

    undo = False

    def __init__(
        self,
        dsn: DSN,
        project: Project,
        allow_blocking: bool,
        say: Any,
        guard: Callable[[], None] | None = None,
    ) -> None:
        self.dsn, self.project, self.allow_blocking, self.say = dsn, project, allow_blocking, say
        self.guard = guard
        self.config = Config.of(project)

    def undoing(self) -> Executor:
        other = copy.copy(self)
        other.undo = True
        return other

    def __call__(self, step: Any, direction: str, mb: Any, where: tuple[str, int]) -> None:
        sql = step_sql(step, direction)  # a rollback's ALTER of a big table too
        alt = parse_alter(sql) if sql else None
        if alt is None or alt.touches_partitions:
            progress.by_yoyo(step, direction, mb)
            return
        conn = mb.connection
        if not catalog.table_exists(conn, alt.table):
            progress.by_yoyo(step, direction, mb)
            return
        path = self.run(conn, alt, where)
        self.say(f"{alt.table}: {path} ({where[0]} step {where[1] + 1})")

    def run(self, conn: Any, alt: Alter, where: tuple[str, int]) -> str:
        with conn.cursor() as cur:
            if _try(cur, _rewrite(alt.statement, "INSTANT", None)):
                return "INSTANT"
            if not galera.is_galera(conn) and _try(cur, _rewrite(alt.statement, "INPLACE", "NONE")):
                return "INPLACE LOCK=NONE"
            rows, size = table_size(conn, alt.table, self.config.online_min_rows)
            if self.allow_blocking or not self.config.big(rows, size):
                cur.execute(alt.statement.text)
                why = "--allow-blocking" if self.allow_blocking else "small table"
                self.say(f"{alt.table}: blocking ALTER run directly ({why}, {rows} rows)")
                return "blocking direct"
            why_not = (_duplicate_keys(conn, alt) or _cannot_copy(conn, alt.table)
                       if self.undo else None)  # fmt: skip
            if why_not:
                cur.execute(alt.statement.text)
                self.say(f"warning: {alt.table}: blocking ALTER run directly to undo a failed "
                         f"step ({why_not}; {rows} rows, {lock_estimate(rows)})")  # fmt: skip
                return "blocking direct"
        conn.commit()
        engine.run_online_alter(
            self.dsn, alt.table, alt.actions, project=self.project, say=self.say,
            migration_id=where[0], step=where[1], guard=self.guard,
        )  # fmt: skip
        return "online copy"


def _unique_columns(actions: str) -> list[str] | None:
    m = re.search(r"\bADD\s+(?:CONSTRAINT\s+\S+\s+)?UNIQUE\b[^(]*\(([^)]*)\)", actions, re.I)
    if not m:
        return None
    return [c.strip().strip("`").split("(")[0].strip() for c in m.group(1).split(",")]


def _duplicate_keys(conn: Any, alt: Alter) -> str | None:
    """Why ``alt`` would fail on the rows there (a new UNIQUE key over duplicates), or None.
    pt-osc copies with INSERT IGNORE, so a copy would drop the duplicates instead."""
    cols = _unique_columns(alt.actions)
    if cols and _duplicates(conn, alt.table, cols):
        return f"the new UNIQUE key ({', '.join(cols)}) has duplicate rows"
    return None


def _cannot_copy(conn: Any, table: str) -> str | None:
    """Why the online copy cannot run for ``table`` here (None: it can)."""
    if ptosc.available() is None:
        return (
            f"the online copy needs {ptosc.TOOL} (Debian package {ptosc.PACKAGE}; "
            "scripts/system-deps.sh installs it)"
        )
    return engine.why_not_copyable(conn, table)


def _duplicates(conn: Any, table: str, cols: list[str]) -> bool:
    q = ", ".join(f"`{c}`" for c in cols)
    return bool(catalog.rows(
        conn, f"SELECT 1 FROM `{table}` GROUP BY {q} HAVING COUNT(*) > 1 LIMIT 1"
    ))  # fmt: skip


def preflight(
    dsn: DSN,
    project: Project,
    migrations: list[Any],
    allow_blocking: bool,
    direction: str = "apply",
) -> list[dict[str, Any]]:
    """Refuse (TicketdbError, nothing changed) a pending blocking ALTER of a big table that the
    online copy cannot do; returns the probes of the big tables' ALTERs. ``direction``
    "rollback": the rollback steps of ``migrations`` (in the order `migrate down` runs them),
    probed in their rollback files."""
    config = Config.of(project)
    with connection(dsn) as conn:
        existing = {n.lower() for n, _ in catalog.tables(conn)}
        candidates = []
        for m in migrations:
            for i, step in enumerate(progress.ordered_steps(m, direction)):
                sql = step_sql(step, direction)
                alt = parse_alter(sql) if sql else None
                if alt is None or alt.touches_partitions or alt.table.lower() not in existing:
                    continue
                rows, size = table_size(conn, alt.table, config.online_min_rows)
                if config.big(rows, size):
                    candidates.append((m, i, alt, rows, size))
        if not candidates or allow_blocking:
            return []
        on_galera = galera.is_galera(conn)
        ids = {c[0].id: c[0].path for c in candidates}
        with probe_files(ids.items(), direction) as files:
            probes = ddlcheck.check_ddl(dsn, files)
        refusals = []
        for m, i, alt, rows, size in candidates:
            probe = next((p for p in probes if p.migration == m.id and p.table == alt.table
                          and p.statement == alt.statement.text.splitlines()[0]), None)  # fmt: skip
            online = probe is not None and (
                probe.algorithm == "INSTANT"
                or (not on_galera and probe.algorithm == "INPLACE" and probe.lock == "NONE")
            )
            why = _duplicate_keys(conn, alt)  # whatever the path: it would fail
            if why is None and online:
                continue
            why = why or _cannot_copy(conn, alt.table)
            if why:
                refusals.append(
                    f"{m.id} step {i + 1} `{alt.first_line}` on {alt.table} "
                    f"({rows or 0:,} rows, {human_bytes(size)}; a blocking ALTER locks it "
                    f"{lock_estimate(rows)}): {why}"
                )
        if refusals:
            raise TicketdbError(
                "refused before any change: " + "; ".join(refusals)
                + ". Run it off-peak with --allow-blocking to take the lock on purpose"
            )  # fmt: skip
    return [p.as_dict() for p in probes]


@contextmanager
def probe_files(
    migrations: Iterable[tuple[str, str]], direction: str
) -> Iterator[list[dict[str, Any]]]:
    """The files ddlcheck.check_ddl probes for (id, path) migrations in ``direction``: a
    rollback's is its ``.rollback.sql`` (yoyo runs its statements in file order), when there
    is one. A Python migration's SQL steps are written, in the order the run takes them, to a
    temporary .sql file that lives as long as the ``with`` block (``source``: the .py file,
    where the probe's line is looked up); a step that is Python code has nothing to probe."""
    with tempfile.TemporaryDirectory(prefix="ticketdb-probe-") as tmp:
        files = []
        for mid, path in migrations:
            if path.endswith(".py"):
                made = _python_sql(mid, path, direction, Path(tmp))
                if made is not None:
                    files.append({"id": mid, "path": made, "source": path})
                continue
            if direction == "rollback" and path.endswith(".sql"):
                path = str(Path(path).with_suffix(".rollback.sql"))
            if Path(path).is_file():
                files.append({"id": mid, "path": path})
        yield files


def _python_sql(mid: str, path: str, direction: str, tmp: Path) -> str | None:
    m = Migration(mid, path, str(Path(path).parent))
    sqls = [s for s in (step_sql(st, direction) for st in progress.ordered_steps(m, direction))
            if s and s.strip()]  # fmt: skip
    if not sqls:
        return None
    out = tmp / f"{mid}.sql"
    out.write_text("".join(s.strip().rstrip(";").rstrip() + ";\n" for s in sqls))
    return str(out)


def annotate(dsn: DSN, project: Project, probes: list[ddlcheck.Probe]) -> None:
    """Set each probe's ``path``: what ``migrate up`` would do with the statement, and why."""
    config = Config.of(project)
    with connection(dsn) as conn:
        on_galera = galera.is_galera(conn)
        for p in probes:
            if p.rows is not None and not config.big(p.rows, p.bytes):  # an estimate: count
                p.rows = table_size(conn, p.table, config.online_min_rows)[0]
            if p.algorithm is None:
                p.path = "fails on the server" if p.note.startswith("fails") else "as written"
            elif p.algorithm == "INSTANT":
                p.path = "INSTANT"
            elif p.algorithm == "INPLACE" and p.lock == "NONE" and not on_galera:
                p.path = "INPLACE LOCK=NONE"
            elif p.rows is None or not config.big(p.rows, p.bytes):
                p.path = (f"blocking, run directly: small table (below {config.online_min_rows:,} "
                          f"rows and {human_bytes(config.online_min_bytes)})")  # fmt: skip
            else:
                why = (
                    f"{ptosc.TOOL} is not installed (Debian package {ptosc.PACKAGE})"
                    if ptosc.available() is None
                    else engine.why_not_copyable(conn, p.table)
                )
                galera_note = " (on Galera an in-place rebuild is a cluster-wide TOI stall)"
                p.path = (
                    f"refused without --allow-blocking: {why}"
                    if why
                    else f"online copy through {ptosc.TOOL}: ~{p.rows:,} rows to copy, "
                    "checksum, swap"
                    + (galera_note if on_galera and p.algorithm == "INPLACE" else "")
                )
