"""Schema drift: the live database against what a fresh ``migrate up`` of the repo produces.

The reference is not rebuilt from the SQL files by a parser of our own: the repo is applied for
real (``ticketdb.migrate.up``) to a scratch database on the same server, created with the live
database's character set and collation and always dropped afterwards. Both sides are then read
with the same ``SHOW CREATE …`` statements, so nearly every formatting difference between MariaDB
and MySQL (``int(11)`` vs ``int``, ``current_timestamp()``, ``/*!50100 … */``) cancels out.
What does not cancel is normalised away: DEFINER clauses, ``AUTO_INCREMENT=N`` counters,
database-name qualifiers, event start times (they depend on when the event was created), the
order of index lines (re-creating an index is not drift), whitespace and comments.

Monthly RANGE partitions roll with maintenance (``partitions ensure``, the maintenance event), so
for RANGE partitioning only the *scheme* (method, expression, the ``MAXVALUE`` catch-all) is
compared; the month partitions themselves are reported as information.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pymysql

from ticketdb import migrate as mig
from ticketdb.db import connection, quote_ident, sql_error
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate import repeatable
from ticketdb.migrate.runner import MIGRATION_TABLE
from ticketdb.partitions import month_start, server_today, to_days
from ticketdb.project import Project
from ticketdb.sqlscript import SplitError, tokenize

Progress = Callable[[str], None]

#: Bookkeeping tables of the migration tooling: present on both sides, never schema.
TOOL_TABLES = frozenset(
    {MIGRATION_TABLE, "_yoyo_log", "_yoyo_version", "yoyo_lock", repeatable.TRACK_TABLE}
)
TOOL_TABLE_PATTERNS = ("yoyo_tmp_*",)
#: Tables named like this that the repo does not define are the tool's own (not compared).
TOOL_PREFIX = "ticketdb_"
KIND_ORDER = ("migration", "table", "view", "sequence", "procedure", "function", "trigger", "event")
_MAX_IDENT = 64


# -- data ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Definition:
    """One object as read from the server: display text for diffs, signature for equality."""

    kind: str
    name: str
    text: str
    signature: tuple[Any, ...]
    partitions: tuple[tuple[str, str], ...] = ()  # (name, description) of RANGE partitions
    partition_expr: str | None = None  # RANGE partitioning only
    sql_mode: str | None = None  # routines, triggers, events: the mode they run with

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass(frozen=True)
class Difference:
    kind: str
    name: str
    state: str  # missing (repo only) | extra (server only) | changed | pending (migrations)
    diff: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "state": self.state, "diff": self.diff}


@dataclass(frozen=True)
class Info:
    kind: str
    name: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "message": self.message}


@dataclass
class DriftReport:
    database: str
    head: str | None
    live_version: str | None
    pending: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    info: list[Info] = field(default_factory=list)
    compared: int = 0

    @property
    def clean(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "clean": self.clean,
            "head": self.head,
            "live_version": self.live_version,
            "pending_migrations": self.pending,
            "compared": self.compared,
            "differences": [d.as_dict() for d in self.differences],
            "info": [i.as_dict() for i in self.info],
        }


# -- normalisation ------------------------------------------------------------------------------
_IDENT = r"(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\"[^\"]*\"|[\w.%$-]+)"
_DEFINER = re.compile(
    rf"^(\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?)"
    rf"DEFINER\s*=\s*{_IDENT}(?:\s*@\s*{_IDENT})?\s+",
    re.IGNORECASE,
)
_IF_NOT_EXISTS = re.compile(
    r"^(\s*CREATE\b[^(;]*?\b(?:TRIGGER|PROCEDURE|FUNCTION|EVENT|VIEW))\s+IF\s+NOT\s+EXISTS\b",
    re.IGNORECASE,
)
_VERSIONED = re.compile(r"/\*!\d{5,6}\s?(.*?)\s?\*/", re.DOTALL)
_AUTO_INC = re.compile(r"\s+AUTO_INCREMENT=\d+", re.IGNORECASE)
_INT_WIDTH = re.compile(r"\b(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)", re.IGNORECASE)
_CURRENT_TS = re.compile(r"\b(current_timestamp|now|localtimestamp)\(\)", re.IGNORECASE)
_EVENT_STARTS = re.compile(r"\s+STARTS\s+'[^' ]*(?: ([^']*))?'", re.IGNORECASE)
_EVENT_AT = re.compile(r"(ON\s+SCHEDULE\s+AT\s+)'[^']*'", re.IGNORECASE)
_WORDLIKE = re.compile(r"[A-Za-z0-9_$]+")


def strip_definer(text: str) -> str:
    """``CREATE DEFINER=`u`@`h` PROCEDURE`` → ``CREATE PROCEDURE``: the creator is not schema.

    A trigger keeps the ``IF NOT EXISTS`` it was created with; that is not schema either.
    """
    return _IF_NOT_EXISTS.sub(r"\1", _DEFINER.sub(r"\1", text, count=1), count=1)


def strip_database(text: str, database: str, *, unquoted: bool = False) -> str:
    """Drop ```db`.`` qualifiers (the server writes them; the two databases differ in name)."""
    text = text.replace(quote_ident(database) + ".", "")
    if unquoted:
        text = re.sub(rf"(?<![\w`.]){re.escape(database)}\.", "", text)
    return text


def signature(text: str) -> tuple[str, ...]:
    """Tokens without whitespace and comments; words and `quoted` identifiers case-folded.

    Two definitions with equal signatures behave the same, however they are laid out.
    """
    try:
        tokens = tokenize(text)
    except SplitError:
        return tuple(text.split())
    out: list[str] = []
    for t in tokens:
        if t.kind == "ws":
            continue
        if t.kind == "comment":
            m = _VERSIONED.fullmatch(t.text)
            if m:
                out.extend(signature(m.group(1)))
            continue
        if t.kind == "quoted":
            inner = t.text[1:-1].replace("``", "`")
            out.append(inner.upper() if _WORDLIKE.fullmatch(inner) else t.text)
        elif t.kind == "word":
            out.append(t.upper)
        else:
            out.append(t.text)
    return tuple(out)


def _clean_lines(text: str) -> str:
    lines = [ln.rstrip().expandtabs(4) for ln in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def normalise_routine(text: str, database: str, *, unquoted_db: bool = False) -> str:
    """Procedures, functions, triggers, views: the stored text minus DEFINER and db qualifiers."""
    return _clean_lines(strip_database(strip_definer(text), database, unquoted=unquoted_db))


def normalise_event(
    text: str, database: str, *, unquoted_db: bool = False, time_of_day: bool = False
) -> str:
    """Also drop STARTS / AT timestamps: they are evaluated when the event is created.

    With ``time_of_day`` (the repo's STARTS is built from CURRENT_DATE, e.g. "daily at 01:00")
    the time of day is kept: a hand re-create that moves the run to a busy hour is drift.
    """
    text = normalise_routine(text, database, unquoted_db=unquoted_db)
    if time_of_day:
        text = _EVENT_STARTS.sub(lambda m: f" STARTS '<day> {m.group(1) or ''}'", text)
    else:
        text = _EVENT_STARTS.sub("", text)
    return _layout_event(_EVENT_AT.sub(r"\1<creation time>", text))


def _layout_event(text: str) -> str:
    """One clause per line before DO, so a diff shows which clause changed (SHOW CREATE EVENT
    prints the whole header on one line)."""
    try:
        tokens = tokenize(text)
    except SplitError:
        return text
    words = [t for t in tokens if t.kind == "word"]
    cuts: list[int] = []
    for i, t in enumerate(words):
        nxt = words[i + 1].upper if i + 1 < len(words) else ""
        if t.upper == "DO":
            cuts.append(t.offset)
            break
        if (t.upper == "ON" and nxt in ("SCHEDULE", "COMPLETION")) or t.upper in (
            "ENABLE", "DISABLE", "COMMENT",
        ):  # fmt: skip
            cuts.append(t.offset)
    if not cuts or "\n" in text[: cuts[-1]]:
        return text
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(text[start:cut].rstrip())
        start = cut
    pieces.append(text[start:])
    return "\n    ".join(pieces)


def _split_partitioning(text: str) -> tuple[str, str]:
    m = re.search(r"\n\s*(?:/\*!\d+\s*)?PARTITION\s+BY\b", text, re.IGNORECASE)
    if not m:
        return text, ""
    return text[: m.start()], _VERSIONED.sub(r"\1", text[m.start() :].strip())


def _scheme(partitioning: str) -> str:
    """``PARTITION BY RANGE (expr)`` (plus SUBPARTITION BY / PARTITIONS n) without the list."""
    depth = 0
    for i, ch in enumerate(partitioning):
        if ch == "(":
            if depth == 0 and re.match(r"\(\s*PARTITION\b", partitioning[i:], re.IGNORECASE):
                return " ".join(partitioning[:i].split())
            depth += 1
        elif ch == ")":
            depth -= 1
    return " ".join(partitioning.split())


def _drop_default_charset(column: str, options: str) -> str:
    """A column's ``CHARACTER SET x COLLATE y`` equal to the table default says nothing new
    (MySQL 8 prints it, MariaDB does not)."""
    cs = re.search(r"\bCHARSET=(\w+)", options)
    coll = re.search(r"\bCOLLATE=(\w+)", options)
    if cs:
        column = re.sub(rf" (?:CHARACTER SET|CHARSET) {cs.group(1)}\b", "", column)
    if coll:
        column = re.sub(rf" COLLATE {coll.group(1)}\b", "", column)
    return column


def normalise_table(
    text: str, partitions: Sequence[tuple[str, str, str]] = ()
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """SHOW CREATE TABLE → comparable text, plus the RANGE partitions left out of it.

    Columns keep their order (it is visible to ``SELECT *``); the primary key comes first and the
    other index and constraint lines are sorted. ``partitions`` are ``(name, method,
    description)`` rows from information_schema.partitions.
    """
    head, partitioning = _split_partitioning(text)
    head = _VERSIONED.sub(r"\1", head)
    lines = head.split("\n")
    close = max((i for i, ln in enumerate(lines) if ln.startswith(")")), default=len(lines))
    elements: list[str] = []
    for ln in lines[1:close]:
        if ln.startswith("  ") and not ln.startswith("   ") or not elements:
            elements.append(ln.strip().rstrip(","))
        else:
            elements[-1] += "\n" + ln.rstrip().rstrip(",")
    elements = [_CURRENT_TS.sub(r"\1", _INT_WIDTH.sub(r"\1", e)).replace("utf8mb3", "utf8")
                for e in elements]  # fmt: skip
    options = _AUTO_INC.sub("", "\n".join(lines[close:])).replace("utf8mb3", "utf8")
    elements = [_drop_default_charset(e, options) for e in elements]
    columns = [e for e in elements if e.startswith("`")]
    primary = [e for e in elements if e.upper().startswith("PRIMARY KEY")]
    others = sorted(e for e in elements if e not in columns and e not in primary)
    out = [lines[0], *("  " + e for e in columns + primary + others), options]
    ranges: list[tuple[str, str]] = []
    if partitioning:
        out.append(_scheme(partitioning))
        seen: set[str] = set()
        for name, method, desc in partitions:
            if name in seen:
                continue  # one row per subpartition
            seen.add(name)
            if method.upper().startswith("RANGE"):
                if str(desc).upper() == "MAXVALUE":
                    out.append(f"  PARTITION {quote_ident(name)} VALUES LESS THAN MAXVALUE")
                else:
                    ranges.append((name, str(desc)))
            elif method.upper().startswith("LIST"):
                out.append(f"  PARTITION {quote_ident(name)} VALUES IN ({desc})")
            else:
                out.append(f"  PARTITION {quote_ident(name)}")
        if ranges:
            out.insert(
                len(out) - (1 if out[-1].endswith("MAXVALUE") else 0),
                "  -- month partitions roll with maintenance: not compared",
            )
    return "\n".join(out), tuple(ranges)


_NOW_WORDS = {
    "CURRENT_TIMESTAMP", "NOW", "SYSDATE", "LOCALTIME", "LOCALTIMESTAMP", "UTC_TIMESTAMP",
    "CURTIME", "CURRENT_TIME", "UNIX_TIMESTAMP",
}  # fmt: skip
_AFTER_STARTS = {"ENDS", "ON", "ENABLE", "DISABLE", "COMMENT", "DO"}


def starts_at_fixed_time(create_event: str) -> bool:
    """Does this CREATE EVENT's STARTS give a time of day that does not depend on "now"?

    ``STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 1 HOUR`` does (01:00); no STARTS, or
    ``STARTS CURRENT_TIMESTAMP + INTERVAL 1 HOUR``, does not.
    """
    try:
        words = [t.upper for t in tokenize(create_event) if t.kind == "word"]
    except SplitError:
        return False
    if "STARTS" not in words:
        return False
    clause = []
    for w in words[words.index("STARTS") + 1 :]:
        if w in _AFTER_STARTS:
            break
        clause.append(w)
    return bool(clause) and not _NOW_WORDS.intersection(clause)


# -- reading the server -------------------------------------------------------------------------
def _rows(conn: Any, sql: str, args: Any = None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cur.fetchall()]


def _show(conn: Any, what: str, name: str) -> dict[str, Any]:
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(f"SHOW CREATE {what} {quote_ident(name)}")
        row = cur.fetchone()
    if not row:
        raise TicketdbError(f"SHOW CREATE {what} {name} returned nothing")
    return row


def _create_text(row: dict[str, Any], column: str, kind: str, name: str) -> str:
    text = row.get(column)
    if text is None:
        raise TicketdbError(
            f"cannot read the definition of {kind} {name}: the connecting user needs "
            "privileges to see it (SHOW_ROUTINE / SELECT on mysql.proc, TRIGGER, EVENT)"
        )
    return str(text)


def is_tool_table(name: str) -> bool:
    return name in TOOL_TABLES or any(fnmatch.fnmatchcase(name, p) for p in TOOL_TABLE_PATTERNS)


def snapshot(
    conn: Any,
    database: str,
    *,
    unquoted_db: bool = False,
    fixed_start_events: frozenset[str] = frozenset(),
) -> dict[tuple[str, str], Definition]:
    """Every schema object of ``database`` (the connection's current one), normalised.

    ``fixed_start_events``: events whose STARTS time of day is fixed by the repo (compared).
    """
    objs: dict[tuple[str, str], Definition] = {}

    def add(kind: str, name: str, text: str, extra: tuple[Any, ...] = (), **kw: Any) -> None:
        objs[(kind, name)] = Definition(kind, name, text, (signature(text), *extra), **kw)

    parts: dict[str, list[tuple[str, str, str]]] = {}
    for table, pname, method, desc in _rows(
        conn,
        "SELECT table_name, partition_name, partition_method, partition_description "
        "FROM information_schema.partitions WHERE table_schema = %s "
        "AND partition_name IS NOT NULL ORDER BY table_name, partition_ordinal_position",
        (database,),
    ):
        parts.setdefault(table, []).append((pname, method or "", desc or ""))
    exprs = dict(
        _rows(
            conn,
            "SELECT DISTINCT table_name, partition_expression FROM information_schema.partitions "
            "WHERE table_schema = %s AND partition_name IS NOT NULL "
            "AND partition_method LIKE 'RANGE%%'",
            (database,),
        )
    )
    for name, ttype in _rows(
        conn,
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %s",
        (database,),
    ):
        if is_tool_table(name):
            continue
        if ttype == "VIEW":
            try:
                row = _show(conn, "VIEW", name)
            except pymysql.err.MySQLError as exc:  # e.g. 1356: its table was dropped by hand
                add("view", name, f"-- view cannot be read: {sql_error(exc)}")
                continue
            text = normalise_routine(_create_text(row, "Create View", "view", name), database,
                                     unquoted_db=unquoted_db)  # fmt: skip
            add("view", name, text)
        elif ttype == "SEQUENCE":
            row = _show(conn, "SEQUENCE", name)
            text = str(row.get("Create Sequence") or "")
            add("sequence", name, normalise_routine(text, database, unquoted_db=unquoted_db))
        elif ttype in ("BASE TABLE", "SYSTEM VERSIONED"):
            row = _show(conn, "TABLE", name)
            text = strip_database(_create_text(row, "Create Table", "table", name), database)
            norm, ranges = normalise_table(text, parts.get(name, ()))
            add("table", name, norm, partitions=ranges, partition_expr=exprs.get(name))
    shows = {
        "procedure": ("PROCEDURE", "Create Procedure"),
        "function": ("FUNCTION", "Create Function"),
        "trigger": ("TRIGGER", "SQL Original Statement"),
        "event": ("EVENT", "Create Event"),
    }
    listing = _rows(
        conn,
        "SELECT LOWER(routine_type), routine_name FROM information_schema.routines "
        "WHERE routine_schema = %s "
        "UNION ALL SELECT 'trigger', trigger_name FROM information_schema.triggers "
        "WHERE trigger_schema = %s "
        "UNION ALL SELECT 'event', event_name FROM information_schema.events "
        "WHERE event_schema = %s",
        (database, database, database),
    )
    for kind, name in listing:
        if kind not in shows:
            continue  # e.g. MariaDB PACKAGE
        what, column = shows[kind]
        row = _show(conn, what, name)
        text = _create_text(row, column, kind, name)
        if kind == "event":
            text = normalise_event(
                text, database, unquoted_db=unquoted_db, time_of_day=name in fixed_start_events
            )
        else:
            text = normalise_routine(text, database, unquoted_db=unquoted_db)
        mode = str(row.get("sql_mode") or "")
        # sql_mode is part of a routine: a hand re-create from a non-strict client changes it
        add(kind, name, text, (mode,), sql_mode=mode)
    return objs


# -- comparing ----------------------------------------------------------------------------------
def unified(kind: str, name: str, repo: str | None, live: str | None) -> str:
    """``--- repo`` (what a fresh migrate creates) vs ``+++ live`` (what the server has)."""
    a = repo.split("\n") if repo is not None else []
    b = live.split("\n") if live is not None else []
    lines = list(
        difflib.unified_diff(a, b, f"repo/{kind} {name}", f"live/{kind} {name}", lineterm="", n=3)
    )
    if not lines:  # equal text, different signature (sql_mode, quoting): say so
        return f"--- repo/{kind} {name}\n+++ live/{kind} {name}\n(differs only in quoting/case)"
    return "\n".join(lines)


def _order(item: Difference | Info) -> tuple[int, str]:
    kind = item.kind
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), item.name)


def compare(
    live: dict[tuple[str, str], Definition],
    ref: dict[tuple[str, str], Definition],
    *,
    ignore: Sequence[str] = (),
) -> tuple[list[Difference], list[Info]]:
    """Per object: missing (repo only), extra (live only) or changed, with a unified diff."""
    diffs: list[Difference] = []
    info: list[Info] = []
    for key in sorted(set(live) | set(ref)):
        kind, name = key
        if any(fnmatch.fnmatchcase(name, p) for p in ignore):
            info.append(Info(kind, name, "ignored (--ignore)"))
            continue
        lv, rf = live.get(key), ref.get(key)
        if rf is None and lv is not None:
            if kind == "table" and name.startswith(TOOL_PREFIX):
                info.append(Info(kind, name, "tool table, not compared"))
                continue
            diffs.append(Difference(kind, name, "extra", unified(kind, name, None, lv.text)))
        elif lv is None and rf is not None:
            diffs.append(Difference(kind, name, "missing", unified(kind, name, rf.text, None)))
        elif lv is not None and rf is not None:
            if lv.signature != rf.signature:
                a, b = rf.text, lv.text
                if lv.sql_mode != rf.sql_mode:
                    a, b = f"-- sql_mode: {rf.sql_mode}\n{a}", f"-- sql_mode: {lv.sql_mode}\n{b}"
                diffs.append(Difference(kind, name, "changed", unified(kind, name, a, b)))
            if lv.partitions or rf.partitions:
                info.append(Info(kind, name, _partition_note(lv, rf)))
    return sorted(diffs, key=_order), info


def _span(parts: Sequence[tuple[str, str]]) -> str:
    if not parts:
        return "none"
    if len(parts) == 1:
        return parts[0][0]
    return f"{parts[0][0]}…{parts[-1][0]}"


def _partition_note(live: Definition, ref: Definition) -> str:
    return (
        f"{len(live.partitions)} range partition(s) on the server ({_span(live.partitions)}), "
        f"{len(ref.partitions)} in a fresh migrate ({_span(ref.partitions)}); they roll with "
        "maintenance and are not compared"
    )


def coverage_warnings(live: dict[tuple[str, str], Definition], today: date) -> list[Info]:
    """TO_DAYS month partitions ending before next month: new rows would go to the catch-all."""
    out = []
    for d in live.values():
        if not (d.partition_expr or "").lower().startswith("to_days("):
            continue
        try:
            top = max((int(desc) for _n, desc in d.partitions), default=0)
        except ValueError:
            continue
        if top < to_days(month_start(today, 1)):
            out.append(Info(d.kind, d.name, "no month partition for the current month yet "
                            "(run `ticketdb partitions ensure`)"))  # fmt: skip
        elif top < to_days(month_start(today, 2)):
            out.append(Info(d.kind, d.name, "no month partition for next month yet "
                            "(run `ticketdb partitions ensure`)"))  # fmt: skip
    return out


# -- the reference database ---------------------------------------------------------------------
def scratch_name(database: str) -> str:
    suffix = f"__drift_{uuid.uuid4().hex[:8]}"
    return database[: _MAX_IDENT - len(suffix)] + suffix


@contextmanager
def reference_database(
    dsn: DSN,
    project: Project,
    *,
    progress: Progress | None = None,
    problems: list[str] | None = None,
) -> Iterator[DSN]:
    """A scratch database on the same server with the repo applied; dropped on the way out.

    A failed drop never hides the real error; it is said and appended to ``problems``.
    """
    say = progress or (lambda _msg: None)
    name = scratch_name(dsn.database)
    ref = dsn.with_database(name)
    with connection(dsn, database=False) as conn:
        rows = _rows(
            conn,
            "SELECT default_character_set_name, default_collation_name "
            "FROM information_schema.schemata WHERE schema_name = %s",
            (dsn.database,),
        )
        charset, collation = rows[0] if rows else ("utf8mb4", "utf8mb4_unicode_ci")
        try:
            with conn.cursor() as cur:
                cur.execute(
                    f"CREATE DATABASE {quote_ident(name)} "
                    f"CHARACTER SET {charset} COLLATE {collation}"
                )
        except pymysql.err.MySQLError as exc:
            raise sql_error(
                exc, where=f"creating scratch database {name} (drift needs CREATE and DROP)"
            ) from None
    try:
        say(f"building the reference: migrate up into scratch database {name}")
        mig.up(ref, project)
        yield ref
    finally:
        try:
            with connection(dsn, database=False) as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        except (pymysql.err.MySQLError, TicketdbError) as exc:
            msg = f"could not drop scratch database {name}: {exc}; drop it by hand"
            say(msg)
            if problems is not None:
                problems.append(msg)


def stale_scratch_databases(conn: Any, database: str) -> list[str]:
    """Scratch databases of earlier drift runs that were killed before they could drop them."""
    prefix = scratch_name(database).rsplit("__drift_", 1)[0] + "__drift_"
    return [
        r[0]
        for r in _rows(conn, "SELECT schema_name FROM information_schema.schemata")
        if r[0].startswith(prefix) and re.fullmatch(r"[0-9a-f]{8}", r[0][len(prefix) :])
    ]


def check(
    dsn: DSN,
    project: Project,
    *,
    ignore: Sequence[str] = (),
    progress: Progress | None = None,
) -> DriftReport:
    """Compare ``dsn``'s database with the repo's head; pending migrations count as drift."""
    st = mig.status(dsn, project)
    if not st["database_exists"]:
        raise TicketdbError(
            f"database {dsn.database!r} does not exist on {dsn.address}: "
            "nothing to compare (run `ticketdb migrate up` to create it)"
        )
    ids = [r["id"] for r in st["migrations"]]
    applied = [r["id"] for r in st["migrations"] if r["applied"]]
    report = DriftReport(
        database=dsn.database,
        head=ids[-1] if ids else None,
        live_version=applied[-1] if applied else None,
        pending=list(st["pending"]),
    )
    for mid in st["pending"]:
        report.differences.append(Difference(
            "migration", mid, "pending", "not applied on the server (`ticketdb migrate up`)",
        ))  # fmt: skip
    if report.pending:
        report.info.append(Info(
            "database", dsn.database,
            f"{len(report.pending)} pending migration(s): drift is relative to the repo's head "
            f"({report.head}); `ticketdb migrate status` shows the pending ones",
        ))  # fmt: skip
    for mid in st["applied_unknown"]:
        report.differences.append(Difference(
            "migration", mid, "extra",
            f"migration {mid} is applied on the server but has no file in the repo",
        ))  # fmt: skip
    fixed = frozenset(
        o.name
        for o in repeatable.load_objects(project)
        if o.kind == "EVENT" and starts_at_fixed_time(o.create_sql)
    )
    problems: list[str] = []
    with reference_database(dsn, project, progress=progress, problems=problems) as ref_dsn:
        with connection(ref_dsn) as rconn:
            ref = snapshot(rconn, ref_dsn.database, unquoted_db=True, fixed_start_events=fixed)
    with connection(dsn) as conn:
        live = snapshot(conn, dsn.database, fixed_start_events=fixed)
        today = server_today(conn)
        stale = stale_scratch_databases(conn, dsn.database)
    diffs, info = compare(live, ref, ignore=ignore)
    report.differences.extend(diffs)
    report.info.extend(info)
    report.info.extend(coverage_warnings(live, today))
    report.info.extend(Info("database", dsn.database, p) for p in problems)
    report.info.extend(
        Info("database", name, "scratch database left by an interrupted drift run "
             "(or one running now); drop it when no drift is running")
        for name in stale
    )  # fmt: skip
    report.info.sort(key=_order)  # stable: the pending note stays first among database notes
    report.compared = len(set(live) | set(ref))
    version = (
        f"at migration {report.live_version}" if report.live_version else "no migration applied"
    )
    state = "the repo's head" if not report.pending else f"{len(report.pending)} pending"
    report.info.insert(0, Info("database", dsn.database, f"{version} ({state})"))
    return report


__all__ = [
    "Definition",
    "Difference",
    "DriftReport",
    "Info",
    "check",
    "compare",
    "normalise_table",
    "signature",
    "snapshot",
]
