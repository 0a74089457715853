"""The swap: the copy goes into service with the table's own triggers moved inside one fence.

Own triggers cannot be on both tables at once (trigger names are unique per schema) and pt-osc's
copy triggers must not feed a table whose own triggers already fire (the state machine would
run twice for one write). So the move happens while no write can reach either table:

* one server — ``LOCK TABLES t WRITE, _t_new WRITE`` (writers queue on the lock): guard
  triggers on ``t`` that refuse every write, DROP each own trigger on ``t``, CREATE it ON
  ``_t_new`` (its repo text with only the ``ON`` clause changed), drop pt-osc's copy triggers,
  ``ALTER TABLE t RENAME TO _t_old``, ``ALTER TABLE _t_new RENAME TO t`` (RENAME TABLE is refused
  under LOCK TABLES, ERROR 1192), UNLOCK. The guards make every intermediate state *fail
  closed*: if this process dies inside the fence the lock goes with its connection, and ``t``
  refuses writes (SIGNAL 45000) instead of running them without its triggers, until
  ``migrate repair``.
* Galera — LOCK TABLES is node-local, so the fence is the name: ``RENAME TABLE t TO _t_old``
  (one TOI statement, cluster-wide; from then writes fail with 1146, which the Workflow retries
  for a bounded time), move the triggers, drop the copy triggers, prove every node holds the
  moved triggers in order (ticketdb.migrate.online.everywhere; a node can silently fail to
  apply a CREATE TRIGGER), ``RENAME TABLE _t_new TO t``.

Triggers follow a renamed table and the server rewrites their stored ``ON`` clause, so a trigger
created ON ``_t_new`` reads ``ON t`` afterwards: ``drift`` stays clean.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import error_code, quote_ident
from ticketdb.migrate import repeatable
from ticketdb.project import Project

COPY_PREFIX = "pt_osc_"
_EVENTS = {"INSERT": "ins", "UPDATE": "upd", "DELETE": "del"}
_ON = re.compile(
    r"(\bON\s+)((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)(\s+FOR\s+EACH\s+ROW\b)", re.I
)
#: LOCK TABLES waits this long for running transactions before it gives up and tries again
LOCK_WAIT = 1
LOCK_TRIES = 30


Pause = Callable[[], None]


def _none() -> None:
    pass


@dataclass(frozen=True)
class OwnTrigger:
    name: str
    sql: str  # CREATE TRIGGER … ON <table> …, as applied


def guard_name(table: str, event: str) -> str:
    return f"tdb_osc_guard_{_EVENTS[event]}_{table}"[:64]


def retarget(sql: str, table: str) -> str:
    """The trigger's CREATE with only its ``ON <table>`` clause changed."""
    new, n = _ON.subn(lambda m: m.group(1) + quote_ident(table) + m.group(3), sql, count=1)
    if n != 1:
        raise ValueError("no ON <table> FOR EACH ROW clause in the trigger")
    return new


def _on_table(conn: Any, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(trigger, table) of triggers on ``tables``, in firing order."""
    return [(str(n), str(t)) for n, t in catalog.trigger_tables(conn, tables, firing_order=True)]


def copy_triggers(conn: Any, *tables: str) -> list[str]:
    return [n for n, _ in _on_table(conn, tables) if n.startswith(COPY_PREFIX)]


def guards(conn: Any, *tables: str) -> list[str]:
    return [n for n, _ in _on_table(conn, tables) if n.startswith("tdb_osc_guard_")]


def own_triggers(conn: Any, table: str, project: Project) -> list[OwnTrigger]:
    """The table's own triggers in firing order: the repo file's CREATE when the server runs
    exactly that file (tracked checksum), else the server's own stored statement."""
    files = {o.name: o for o in repeatable.load_objects(project) if o.kind == "TRIGGER"}
    tracked = repeatable.tracked(conn)
    out = []
    for name, _ in _on_table(conn, (table,)):
        if name.startswith(COPY_PREFIX) or name.startswith("tdb_osc_guard_"):
            continue
        obj = files.get(name)
        if obj is not None and tracked.get(("TRIGGER", name)) == obj.checksum:
            sql = obj.create_sql
        else:
            sql = catalog.show_create(conn, "TRIGGER", name) or ""
        out.append(OwnTrigger(name, sql))
    return out


def _guard_sql(table: str, event: str) -> str:
    msg = f"ticketdb: {table} is being swapped by an online schema change; retry"
    return (
        f"CREATE TRIGGER {quote_ident(guard_name(table, event))} BEFORE {event} ON "
        f"{quote_ident(table)} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{msg}'"
    )


def _drop_trigger(cur: Any, name: str) -> None:
    cur.execute(f"DROP TRIGGER IF EXISTS {quote_ident(name)}")


def _first(cur: Any, sql: str) -> None:
    """The fence's first statement (LOCK TABLES, or the first RENAME on Galera): it waits for
    running transactions on the table while every new writer queues behind it, so it gives up
    after LOCK_WAIT seconds and tries again (as pt-osc does) instead of stalling writers for the
    server's default lock_wait_timeout (a day on MariaDB)."""
    cur.execute(f"SET SESSION lock_wait_timeout = {LOCK_WAIT}")
    for attempt in range(LOCK_TRIES):
        try:
            cur.execute(sql)
            return
        except pymysql.err.MySQLError as exc:
            if error_code(exc) != 1205 or attempt == LOCK_TRIES - 1:
                raise
            time.sleep(0.2)


def _move_own_triggers(
    conn: Any, cur: Any, own: list[OwnTrigger], new: str, original: str, mid: Pause
) -> None:
    """Inside the fence (both ways): the table's own triggers leave the original and are
    created on the copy, then pt-osc's copy triggers on the original go (``original`` is its
    name at this point: the table's own on one server, the ``old`` name on Galera)."""
    for t in own:
        _drop_trigger(cur, t.name)
    mid()
    for t in own:
        cur.execute(retarget(t.sql, new))
    for name in copy_triggers(conn, original):
        _drop_trigger(cur, name)


def swap_locked(
    conn: Any, table: str, new: str, old: str, own: list[OwnTrigger], mid: Pause = _none
) -> float:
    """One server: the fence is LOCK TABLES (see the module docstring); returns the seconds
    writers were held (from the lock granted to UNLOCK)."""
    with conn.cursor() as cur:
        _first(cur, "LOCK TABLES " + ", ".join(f"{quote_ident(t)} WRITE" for t in (table, new)))
        held = time.perf_counter()
        try:
            for event in _EVENTS:
                cur.execute(_guard_sql(table, event))
            _move_own_triggers(conn, cur, own, new, table, mid)
            cur.execute(f"ALTER TABLE {quote_ident(table)} RENAME TO {quote_ident(old)}")
            cur.execute(f"ALTER TABLE {quote_ident(new)} RENAME TO {quote_ident(table)}")
        finally:
            cur.execute("UNLOCK TABLES")
        window = time.perf_counter() - held
        for name in guards(conn, old):
            _drop_trigger(cur, name)
    return window


def swap_by_name(
    conn: Any,
    table: str,
    new: str,
    old: str,
    own: list[OwnTrigger],
    mid: Pause = _none,
    *,
    verify: Pause = _none,
) -> float:
    """Galera: the fence is the table's name (see the module docstring); returns the seconds
    between the two renames (writers get 1146 meanwhile). ``verify`` runs after the triggers
    moved and before the copy takes the name: it proves every node holds them (a node may
    have failed to apply a CREATE TRIGGER: ticketdb.migrate.online.everywhere) or raises, and
    the caller puts the original back."""
    with conn.cursor() as cur:
        _first(cur, f"RENAME TABLE {quote_ident(table)} TO {quote_ident(old)}")
        gone = time.perf_counter()
        _move_own_triggers(conn, cur, own, new, old, mid)
        verify()
        cur.execute(f"RENAME TABLE {quote_ident(new)} TO {quote_ident(table)}")
        return time.perf_counter() - gone


def drop_old(conn: Any, old: str) -> None:
    with conn.cursor() as cur:
        for name in guards(conn, old) + copy_triggers(conn, old):
            _drop_trigger(cur, name)
        cur.execute(f"DROP TABLE IF EXISTS {quote_ident(old)}")


def restore(conn: Any, table: str, new: str, old: str, own: list[OwnTrigger]) -> list[str]:
    """Put the original back in service with its own triggers and remove the copy, from any
    point before the second rename. Order: the table in service keeps refusing writes (guards,
    or its name being gone) until its triggers are all back. Returns what it did."""
    did: list[str] = []
    exists = {name.lower() for name, _ in catalog.tables(conn)}
    current = table if table.lower() in exists else old
    if current.lower() not in exists:
        raise LookupError(f"neither {table} nor {old} exists")
    on = {n: t for n, t in _on_table(conn, (table, new, old))}
    with conn.cursor() as cur:
        for t in own:
            if on.get(t.name) == new:
                _drop_trigger(cur, t.name)
                did.append(f"dropped trigger {t.name} from {new}")
            if on.get(t.name) != current:
                cur.execute(retarget(t.sql, current))
                did.append(f"re-created trigger {t.name} on {current}")
        for name in copy_triggers(conn, current):
            _drop_trigger(cur, name)
            did.append(f"dropped pt-osc trigger {name}")
        if current != table:
            cur.execute(f"RENAME TABLE {quote_ident(current)} TO {quote_ident(table)}")
            did.append(f"renamed {current} back to {table}")
        for name in guards(conn, table):
            _drop_trigger(cur, name)
            did.append(f"dropped guard trigger {name}")
        if new.lower() in exists:
            cur.execute(f"DROP TABLE IF EXISTS {quote_ident(new)}")
            did.append(f"dropped {new}")
    return did


def swapped(conn: Any, table: str, new: str, old: str) -> bool:
    """The renames are done: the copy is in service under the table's name."""
    exists = {name.lower() for name, _ in catalog.tables(conn)}
    return table.lower() in exists and old.lower() in exists and new.lower() not in exists
