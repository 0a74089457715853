"""Step-by-step migration runs that survive a kill: the design behind ``migrate repair``.

MariaDB/MySQL DDL is not transactional and yoyo records a migration only after all its steps,
so a run killed in between leaves DDL that took effect and no record ("Table … already
exists" for ever after). Here every run is journaled in ``ticketdb_migration_progress``:

* a row ("started", direction, steps done = 0) is committed before the first step;
* after each step, ``steps_done`` is bumped in the same transaction as the step, so a DML step
  and its record commit together; only a DDL step (which commits on its own) can have taken
  effect without its record: that one step is *uncertain*;
* the yoyo record (mark/unmark) and the deletion of the journal row commit together.

A journal row found by the next run (under the migrate lock, so its owner is gone) stops
``up``/``down`` with the exact command: ``ticketdb migrate repair`` finishes the interrupted
run, ``ticketdb migrate repair --undo`` reverts the steps that took effect with the
migration's own rollback steps. The uncertain step is re-run tolerating only the errors that
mean "already done" (or, undoing, "already undone").
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pymysql
from yoyo.migrations import Migration

from ticketdb.db import connection_lost, sql_error
from ticketdb.errors import SqlError, TicketdbError
from ticketdb.migrate import checksums

#: yoyo's record of applied migrations
MIGRATION_TABLE = "_yoyo_migration"

PROGRESS_TABLE = "ticketdb_migration_progress"
REPAIR_HINT = (
    "run `ticketdb migrate repair` to finish it, "
    "or `ticketdb migrate repair --undo` to undo the steps that took effect"
)

#: Server errors that mean an apply-direction DDL already took effect.
ALREADY_DONE = frozenset({1007, 1022, 1050, 1060, 1061, 1068, 1304, 1359, 1517, 1537, 1826, 3822})
#: Server errors that mean a rollback-direction DDL already took effect (object is gone).
ALREADY_UNDONE = frozenset({1008, 1051, 1054, 1091, 1146, 1176, 1305, 1360, 1507, 1539, 3940})

Say = Callable[[str], None]
#: runs one step: (step, direction, backend, (migration id, step index)); the default calls
#: yoyo's step itself (``migrate up`` routes ALTERs: ticketdb.migrate.online.route)
Execute = Callable[[Any, str, Any, tuple[str, int]], None]


def by_yoyo(step: Any, direction: str, mb: Any, _where: tuple[str, int] = ("", 0)) -> None:
    """yoyo runs the step. It prints the rows of a SELECT step to sys.stdout; stdout carries only
    the command's own output (JSON with --json), so they go to stderr with the progress."""
    with contextlib.redirect_stdout(sys.stderr):
        getattr(step, direction)(mb)

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} ("
    " migration_id VARCHAR(255) NOT NULL,"
    " migration_hash VARCHAR(64) NOT NULL,"
    " direction ENUM('apply','rollback') NOT NULL,"
    " steps_total INT NOT NULL,"
    " steps_done INT NOT NULL,"
    " started_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " pid INT NOT NULL,"
    " client VARCHAR(255) NOT NULL,"
    " PRIMARY KEY (migration_id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
)


@dataclass(frozen=True)
class Interrupted:
    """A journal row: a run that started and never recorded its end."""

    migration_id: str
    migration_hash: str
    direction: str
    steps_total: int
    steps_done: int
    started_at: str
    pid: int
    client: str

    def describe(self) -> str:
        verb = "apply" if self.direction == "apply" else "rollback"
        return (
            f"the {verb} of migration {self.migration_id} was interrupted after "
            f"{self.steps_done} of {self.steps_total} step(s) "
            f"(started {self.started_at} by pid {self.pid} on {self.client})"
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def ensure_table(backend: Any) -> None:
    with backend.transaction():
        backend.execute(_CREATE)


def read_interrupted(conn: Any) -> list[Interrupted]:
    """The journal rows, read with a plain PyMySQL connection (status is read-only)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT migration_id, migration_hash, direction, steps_total, steps_done, "
            f"started_at, pid, client FROM {PROGRESS_TABLE} ORDER BY started_at, migration_id"
        )
        rows = [tuple(r.values()) if isinstance(r, dict) else r for r in cur.fetchall()]
    return [
        Interrupted(r[0], r[1], r[2], int(r[3]), int(r[4]), str(r[5]), int(r[6]), r[7])
        for r in rows
    ]


def interrupted(backend: Any) -> list[Interrupted]:
    rows = read_interrupted(backend.connection)
    backend.commit()
    return rows


def refuse_if_interrupted(backend: Any) -> None:
    """``up``/``down`` never build on top of a half-applied migration."""
    found = interrupted(backend)
    if found:
        raise TicketdbError(f"{found[0].describe()}; {REPAIR_HINT}")


def ordered_steps(m: Migration, direction: str) -> list[Any]:
    """``m``'s steps in the order a run in ``direction`` takes them (a rollback: last first)."""
    m.load()
    steps = list(m.steps or [])
    return steps if direction == "apply" else steps[::-1]


def _inverse(direction: str) -> str:
    return "rollback" if direction == "apply" else "apply"


def _run_step(
    mb: Any,
    step: Any,
    op: str,
    *,
    tolerate: frozenset[int] = frozenset(),
    execute: Execute = by_yoyo,
    where: tuple[str, int] = ("", 0),
) -> bool:
    """One step in its own transaction; False when a tolerated 'already so' error said skip."""
    try:
        with mb.transaction():
            execute(step, op, mb, where)
    except pymysql.err.MySQLError as exc:
        err = real_error(exc)
        code = err.args[0] if err.args and isinstance(err.args[0], int) else None
        if code in tolerate:
            mb.rollback()
            return False
        raise err from None
    return True


def _record(mb: Any, m: Migration, n: int) -> None:
    with mb.transaction():
        mb.execute(
            f"UPDATE {PROGRESS_TABLE} SET steps_done = :n, updated_at = NOW() "
            "WHERE migration_id = :id",
            {"n": n, "id": m.id},
        )


def _finish(backend: Any, m: Migration, direction: str) -> None:
    """The yoyo record, the files' checksums and the journal's end commit together."""
    with backend.transaction():
        if direction == "apply":
            backend.mark_one(m, log=False)
            checksums.record_migration(backend.connection, m)
        else:
            backend.unmark_one(m, log=False)
            checksums.forget(backend.connection, m.id)
        backend.log_migration(m, direction)
        backend.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE migration_id = :id", {"id": m.id})


def _forget(backend: Any, m_id: str) -> None:
    with backend.transaction():
        backend.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE migration_id = :id", {"id": m_id})


def real_error(exc: BaseException) -> BaseException:
    """MySQL DDL commits implicitly, so yoyo's ROLLBACK TO SAVEPOINT fails and hides the real
    error in ``__context__``; walk back to the first server error. A rollback that failed on a
    lost connection hides the step's own error the same way (an online copy that lost the
    server; PyMySQL's error on a closed connection has no text at all)."""
    seen = exc
    while True:
        ctx = seen.__context__
        code = seen.args[0] if seen.args and isinstance(seen.args[0], int) else None
        if code in (1305,) and isinstance(ctx, pymysql.err.MySQLError):  # SAVEPOINT does not exist
            seen = ctx
            continue
        if ctx is not None and isinstance(ctx, Exception) and connection_lost(seen):
            seen = ctx
            continue
        return seen


def _where(m: Migration, direction: str, index: int, total: int) -> str:
    verb = "migration" if direction == "apply" else "rollback of"
    return f"{verb} {m.id} (step {index + 1} of {total})"


def run(
    backend: Any,
    m: Migration,
    direction: str,
    say: Say,
    execute: Execute = by_yoyo,
    undo: Execute = by_yoyo,
) -> None:
    """Apply or roll back ``m`` step by step, journaled; on a failing step undo what took
    effect through ``undo`` (or leave the journal and name ``migrate repair`` when even that
    fails)."""
    steps = ordered_steps(m, direction)
    with backend.transaction():
        backend.execute(
            f"INSERT INTO {PROGRESS_TABLE} (migration_id, migration_hash, direction, steps_total,"
            " steps_done, pid, client) VALUES (:id, :hash, :dir, :total, 0, :pid, :client)",
            {
                "id": m.id,
                "hash": m.hash,
                "dir": direction,
                "total": len(steps),
                "pid": os.getpid(),
                "client": f"{getpass.getuser()}@{socket.gethostname()}"[:255],
            },
        )
    backend.ensure_internal_schema_updated()
    with backend.copy() as mb:
        for i, step in enumerate(steps):
            try:
                with mb.transaction():
                    execute(step, direction, mb, (m.id, i))
                    mb.execute(
                        f"UPDATE {PROGRESS_TABLE} SET steps_done = :n, updated_at = NOW() "
                        "WHERE migration_id = :id",
                        {"n": i + 1, "id": m.id},
                    )
            except Exception as exc:  # a server error, or a Python step that raised
                first = real_error(exc)
                err = sql_error(first, _where(m, direction, i, len(steps)))
                if connection_lost(first) or connection_lost(exc):
                    # the server went silent or away: undoing needs it too, and the journal
                    # (committed before the first step) already says where the run stopped
                    raise TicketdbError(
                        f"{err}; lost the server, nothing was undone: {REPAIR_HINT}"
                    ) from None
                _undo_after_failure(backend, mb, m, direction, steps[:i], err, say, undo)
    _finish(backend, m, direction)


def _undo_after_failure(
    backend: Any,
    mb: Any,
    m: Migration,
    direction: str,
    done: Sequence[Any],
    err: SqlError,
    say: Say,
    execute: Execute = by_yoyo,
) -> None:
    """A step failed (a single DDL statement is atomic: it did nothing). Undo the ones before."""
    try:
        mb.rollback()
    except pymysql.err.MySQLError:
        pass
    inverse = _inverse(direction)
    for j in range(len(done) - 1, -1, -1):
        try:
            _run_step(mb, done[j], inverse, execute=execute, where=(m.id, j))
            _record(mb, m, j)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the journal for repair
            raise TicketdbError(
                f"{err}; undoing the {len(done)} step(s) before it also failed at step "
                f"{j + 1} ({sql_error(real_error(exc))}); {REPAIR_HINT}"
            ) from None
    _forget(backend, m.id)
    if done:
        say(f"undid the {len(done)} step(s) of {m.id} that had taken effect")
    raise err


def repair(
    backend: Any,
    migrations: Sequence[Migration],
    *,
    undo: bool,
    say: Say,
    execute: Execute = by_yoyo,
) -> list[str]:
    """Finish (or with ``undo`` revert) every interrupted run; returns what was done. Steps run
    through ``execute``, in either direction (``migrate`` passes its undoing executor with
    ``undo``)."""
    by_id = {m.id: m for m in migrations}
    done: list[str] = []
    for row in interrupted(backend):
        m = by_id.get(row.migration_id)
        if m is None:
            raise TicketdbError(
                f"{row.describe()}, and its file is no longer in migrations/: restore the file "
                "(same content) and run `ticketdb migrate repair` again"
            )
        if m.hash != row.migration_hash:
            raise TicketdbError(f"{row.describe()}: journal does not match migration {m.id}")
        steps = ordered_steps(m, row.direction)
        if row.steps_total != len(steps):
            raise TicketdbError(
                f"{row.describe()}, but {m.path} now has {len(steps)} step(s): restore the file "
                "as it was when the run started, then repair"
            )
        try:
            action = _repair_one(backend, m, row, steps, undo=undo, say=say, execute=execute)
        except pymysql.err.MySQLError as exc:
            raise TicketdbError(
                f"repair of {m.id}: {sql_error(real_error(exc))}; the journal still says where "
                "it stopped: fix the cause and run `ticketdb migrate repair` again"
            ) from None
        say(action)
        done.append(action)
    return done


def _repair_one(
    backend: Any,
    m: Migration,
    row: Interrupted,
    steps: list[Any],
    *,
    undo: bool,
    say: Say,
    execute: Execute = by_yoyo,
) -> str:
    k = row.steps_done
    with backend.copy() as mb:
        if undo:
            inverse = _inverse(row.direction)
            tolerate = ALREADY_UNDONE if row.direction == "apply" else ALREADY_DONE
            if k < len(steps) and not _run_step(mb, steps[k], inverse, tolerate=tolerate,
                                                execute=execute, where=(m.id, k)):  # fmt: skip
                say(f"{m.id}: step {k + 1} had not taken effect")
            for j in range(k - 1, -1, -1):
                _run_step(mb, steps[j], inverse, execute=execute, where=(m.id, j))
                _record(mb, m, j)
            _forget(backend, m.id)
            action = f"undid the interrupted {row.direction} of {m.id} ({k} step(s) reverted)"
        else:
            tolerate = ALREADY_DONE if row.direction == "apply" else ALREADY_UNDONE
            for j in range(k, len(steps)):
                ran = _run_step(
                    mb,
                    steps[j],
                    row.direction,
                    tolerate=tolerate if j == k else frozenset(),
                    execute=execute,
                    where=(m.id, j),
                )
                if not ran:
                    say(f"{m.id}: step {j + 1} had already taken effect")
                _record(mb, m, j + 1)
            _finish(backend, m, row.direction)
            action = f"finished the interrupted {row.direction} of {m.id}"
    return action
