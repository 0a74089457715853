"""``migrate repair`` for an online copy killed part-way (a ``ticketdb_online_copy`` row).

The catalog says which table is in service: when the renames are done (the table, ``_t_old``,
no ``_t_new``) the altered table is in service and only ``_t_old`` is left to drop, and the
migration step is recorded as done in the step journal (so ``repair`` goes on with the next
step and ``repair --undo`` reverts it with the migration's rollback). Otherwise the original is
(or is put back) in service with its own triggers — taken from the journal row, so ones a kill
inside the fence had dropped come back — and the copy (``_t_new``, pt-osc's triggers, guards)
is removed; the step then counts as not run (``repair`` runs it again, ``--undo`` skips it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ticketdb.migrate.online import journal, swap
from ticketdb.migrate.progress import PROGRESS_TABLE


def _step_done(conn: Any, c: journal.Copy) -> None:
    if c.migration_id is None or c.step is None:
        return
    with conn.cursor() as cur:
        cur.execute(
            f"UPDATE {PROGRESS_TABLE} SET steps_done = %s WHERE migration_id = %s "
            "AND direction = 'apply' AND steps_done = %s",
            (c.step + 1, c.migration_id, c.step),
        )
    conn.commit()


def repair(conn: Any, say: Callable[[str], None]) -> list[str]:
    """Resolve every interrupted online copy; returns one line per copy."""
    done = []
    for c in journal.read(conn):
        if swap.swapped(conn, c.table, c.new_table, c.old_table):
            swap.drop_old(conn, c.old_table)
            _step_done(conn, c)
            action = (
                f"finished the interrupted online copy of {c.table}: the altered table was "
                f"in service; dropped {c.old_table}"
            )
        else:
            own = [swap.OwnTrigger(t["name"], t["sql"]) for t in c.own_triggers]
            did = swap.restore(conn, c.table, c.new_table, c.old_table, own)
            action = (
                f"removed the interrupted online copy of {c.table} "
                f"({'; '.join(did) or 'nothing was left'}); the original table is in service"
            )
        journal.end(conn, c.table)
        say(action)
        done.append(action)
    return done
