"""``migrate plan --check-ddl``: ask the live server how each pending ALTER would run.

The lint rules guess from the SQL; this proves it. Each pending ALTER TABLE / CREATE INDEX /
DROP INDEX of a table that exists on the server is run against an *empty copy* of that table
(its SHOW CREATE TABLE, in a scratch database dropped afterwards), first with
``ALGORITHM=INSTANT``, then ``INPLACE, LOCK=NONE``, ``INPLACE, LOCK=SHARED``, ``COPY``: the first
one the server accepts is what ``migrate up`` would get at best, and the server's refusals say
why. The copy keeps each accepted change, so later statements of the plan see it. Next to it,
the live table's row count (the server's estimate) and size. Nothing touches the live table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.lint.online import alter_table, index_target
from ticketdb.lint.parse.files import load
from ticketdb.lint.parse.model import ParsedStatement
from ticketdb.lint.parse.unit import ident
from ticketdb.server import databases

#: (ALGORITHM, LOCK) in order of preference; None = say nothing
ATTEMPTS: list[tuple[str, str | None]] = [
    ("INSTANT", None),
    ("INPLACE", "NONE"),
    ("INPLACE", "SHARED"),
    ("COPY", "SHARED"),
    ("COPY", "EXCLUSIVE"),
]
#: the server refuses the requested ALGORITHM/LOCK (the statement itself is fine)
REFUSED = {1845, 1846, 1235}


@dataclass
class Probe:
    migration: str
    line: int
    table: str
    statement: str  # its first line
    algorithm: str | None = None  # best the server accepted; None: not probed or failed
    lock: str | None = None
    rows: int | None = None  # the live table's TABLE_ROWS (an estimate for InnoDB)
    bytes: int | None = None  # data + indexes
    note: str = ""  # why not better (the server's refusal), or why not probed
    path: str = ""  # what `migrate up` does with it (ticketdb.migrate.online.route.annotate)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_ddl(dsn: DSN, steps: list[dict[str, Any]]) -> list[Probe]:
    """Probe every ALTER of an existing table in ``steps`` (``migrate plan``'s migrations)."""
    work: list[tuple[str, ParsedStatement, str]] = []
    probes: list[Probe] = []
    for step in steps:
        path = Path(step["path"])
        if path.suffix != ".sql":
            continue
        src = load(path, path.name)
        # a Python migration's SQL steps come in a generated file: its line is in the .py
        source = Path(step["source"]).read_text(errors="replace") if "source" in step else None
        for st in src.statements:
            table = _target(st)
            if table is not None:
                work.append((step["id"], st, table))
                first = st.text.splitlines()[0]
                line = src.position(st.offset)[0] if source is None else _line_in(source, first)
                probes.append(Probe(step["id"], line, table, first))
    if not probes:
        return []
    with connection(dsn) as live:
        existing = {name.lower() for name, _ in catalog.tables(live)}
        for p in probes:
            if p.table.lower() in existing:
                p.rows, p.bytes = catalog.table_size(live, p.table, dsn.database)
    databases.drop_stale_scratch_databases(dsn, dsn.database, "ddlcheck")  # of killed runs
    with databases.scratch_database(dsn, "ddlcheck", charset_of=dsn.database) as scratch:
        with connection(scratch) as conn:
            copied: set[str] = set()
            for (_, st, table), p in zip(work, probes, strict=True):
                if p.rows is None and table.lower() not in copied:
                    p.note = "new table (created by a pending migration): nothing to probe"
                    continue
                if _qualified(st):
                    p.note = "schema-qualified table name: not probed"
                    continue
                # the table, and any table a FOREIGN KEY it adds references (ADD FOREIGN KEY
                # checks the parent: without it the probe would fail where the server would not)
                for name in [table, *_referenced(st)]:
                    if name.lower() not in copied and name.lower() in existing:
                        _copy_table(dsn, conn, name)
                        copied.add(name.lower())
                _probe(conn, st, p)
    return probes


def _line_in(text: str, first: str) -> int:
    """The line of ``text`` where ``first`` (a statement's first line) appears; 0 if nowhere
    (a step built by code)."""
    at = text.find(first.strip())
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


def _target(st: ParsedStatement) -> str | None:
    alter = alter_table(st)
    if alter is not None:
        return alter.table if alter.actions else None
    return index_target(st)


def _referenced(st: ParsedStatement) -> list[str]:
    """Tables named after REFERENCES in the statement (unqualified ones)."""
    toks = st.tokens
    return [
        ident(toks[k + 1].text)
        for k in range(len(toks) - 1)
        if toks[k].upper == "REFERENCES"
        and toks[k + 1].kind in ("word", "quoted")
        and not (k + 2 < len(toks) and toks[k + 2].text == ".")
    ]


def _qualified(st: ParsedStatement) -> bool:
    """``ALTER TABLE db.t`` / ``… ON db.t``: it could name the live database; never probed."""
    toks = st.tokens
    return any(
        toks[k].upper in ("TABLE", "ON") and k + 2 < len(toks) and toks[k + 2].text == "."
        for k in range(len(toks))
    )


def _copy_table(dsn: DSN, conn: Any, table: str) -> None:
    """An empty copy of the live table's definition (foreign keys may name tables that the
    scratch database does not have: checks are off while it is created)."""
    with connection(dsn) as live:
        ddl = catalog.show_create(live, "TABLE", table)
    if ddl is None:
        raise LookupError(table)
    with conn.cursor() as cur:
        cur.execute("SET SESSION foreign_key_checks = 0")
        try:
            cur.execute(ddl)
        finally:
            cur.execute("SET SESSION foreign_key_checks = 1")


def _rewrite(st: ParsedStatement, algorithm: str, lock: str | None) -> str:
    """The statement with its own ALGORITHM=/LOCK= removed and ours added."""
    base, text = st.offset, st.text
    alter = alter_table(st)
    if alter is not None:
        head = text[: alter.actions[0].offset - base]
        actions = [
            text[a.offset - base : a.tokens[-1].offset - base + len(a.tokens[-1].text)]
            for a in alter.actions
        ]
        options = [f"ALGORITHM={algorithm}"] + ([f"LOCK={lock}"] if lock else [])
        return head + ", ".join(actions + options)
    toks = st.tokens
    keep: list[str] = []
    pos = 0
    k = 0
    while k < len(toks):
        t = toks[k]
        if t.kind == "word" and t.upper in ("ALGORITHM", "LOCK"):
            j = k + 2 if k + 1 < len(toks) and toks[k + 1].text == "=" else k + 1
            keep.append(text[pos : t.offset - base])
            if j < len(toks):
                pos = toks[j].offset - base + len(toks[j].text)
            k = j + 1
            continue
        k += 1
    keep.append(text[pos:])
    body = "".join(keep).rstrip()
    return body + f" ALGORITHM={algorithm}" + (f" LOCK={lock}" if lock else "")


def _probe(conn: Any, st: ParsedStatement, p: Probe) -> None:
    refusals: list[str] = []
    with conn.cursor() as cur:
        for algorithm, lock in ATTEMPTS:
            try:
                cur.execute(_rewrite(st, algorithm, lock))
            except pymysql.err.MySQLError as exc:
                code = exc.args[0] if exc.args else 0
                message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
                if code in REFUSED:
                    refusals.append(f"{algorithm}{'/' + lock if lock else ''}: {message}")
                    continue
                p.note = f"fails on the server: ERROR {code}: {message}"
                return
            p.algorithm, p.lock = algorithm, lock or "NONE"
            p.note = refusals[0] if refusals else ""
            return
    p.note = "; ".join(refusals) or "not accepted with any ALGORITHM/LOCK"


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


__all__ = ["Probe", "check_ddl", "human_bytes"]
