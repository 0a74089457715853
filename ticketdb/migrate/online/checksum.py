"""Old table against new, before the swap: COUNT(*) and BIT_XOR(CRC32(row)) per primary-key chunk.

The model is pt-table-checksum / Spirit: a row's checksum is CRC32 of its columns joined with
``#`` plus one ISNULL flag per column (so NULL and '' differ), a chunk's is the BIT_XOR of its
rows'. Only the columns both tables have with the same definition are compared (the ALTER
changes the others); generated columns are skipped (VIRTUAL ones are computed, shared/NOTES.md).

Each chunk is read from both tables inside one ``START TRANSACTION WITH CONSISTENT SNAPSHOT``:
pt-osc's copy triggers write the new table in the writer's own transaction, so one snapshot sees
both sides of every committed write and a busy table still compares equal. On Galera a
transaction from another node is applied as one write set: the same holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ticketdb import catalog
from ticketdb.db import quote_ident

#: rows per chunk (by range of the first primary-key column)
CHUNK_ROWS = 10_000


@dataclass
class Result:
    ok: bool
    chunks: int
    rows_old: int
    rows_new: int
    seconds: float
    columns: list[str]
    mismatch: str | None = None  # "id 1..10000: 9999 rows vs 10000, checksum a vs b"


def _columns(conn: Any, table: str) -> dict[str, tuple[str, str, str | None, str]]:
    """name → (column_type, is_nullable, collation, extra) of the stored columns."""
    out = {}
    for name, ctype, nullable, coll, extra, gen in catalog.columns(conn, table):
        if gen or "GENERATED" in str(extra).upper() or "VIRTUAL" in str(extra).upper():
            continue
        out[str(name)] = (str(ctype), str(nullable), coll, str(extra))
    return out


def common_columns(conn: Any, old: str, new: str) -> list[str]:
    """Columns present in both with the same type, nullability and collation."""
    a, b = _columns(conn, old), _columns(conn, new)
    return [c for c in a if c in b and a[c][:3] == b[c][:3]]


def chunk_key(conn: Any, table: str) -> str | None:
    """The first primary-key column when it is an integer (chunked by range), else None."""
    key = catalog.primary_key_column(conn, table)
    if key and key[1].lower() in ("tinyint", "smallint", "mediumint", "int", "bigint"):
        return key[0]
    return None


def _row_crc(columns: list[str]) -> str:
    cols = [quote_ident(c) for c in columns]
    flags = ", ".join(f"ISNULL({c})" for c in cols)
    return f"CRC32(CONCAT_WS('#', {', '.join(cols)}, CONCAT({flags})))"


def _row_sum(columns: list[str]) -> str:
    return f"COALESCE(BIT_XOR({_row_crc(columns)}), 0)"


#: rows named in a mismatch message
SHOWN_ROWS = 5


def _differing(cur: Any, old: str, new: str, key: str, columns: list[str], where: str,
               args: Any) -> str:  # fmt: skip
    """Inside the chunk's snapshot: the key values whose row is only in one table or differs,
    so that a mismatch names rows a person can look at (``id 40213 only in t``)."""
    crc, k = _row_crc(columns), quote_ident(key)
    cur.execute(
        f"SELECT k, MIN(side), COUNT(*) OVER (PARTITION BY k) FROM ("
        f"SELECT {k} k, {crc} c, 'old' side FROM {quote_ident(old)}{where} UNION ALL "
        f"SELECT {k}, {crc}, 'new' FROM {quote_ident(new)}{where}) x "
        f"GROUP BY k, c HAVING COUNT(*) = 1 ORDER BY k LIMIT {SHOWN_ROWS * 2}",
        (args or ()) * 2,
    )
    seen: dict[Any, str] = {}
    for value, side, n in cur.fetchall():
        if value not in seen:
            seen[value] = "differs" if n > 1 else f"only in {old if side == 'old' else new}"
    shown = [f"{key} {v} {what}" for v, what in list(seen.items())[:SHOWN_ROWS]]
    return "; ".join(shown)


def compare(conn: Any, old: str, new: str, chunk_rows: int = CHUNK_ROWS) -> Result:
    """Checksum ``old`` against ``new`` chunk by chunk; stops at the first chunk that differs."""
    started = time.perf_counter()
    columns = common_columns(conn, old, new)
    key = chunk_key(conn, old)
    expr = _row_sum(columns)
    qold, qnew = quote_ident(old), quote_ident(new)
    with conn.cursor() as cur:
        cur.execute(f"SELECT MIN(k), MAX(k) FROM (SELECT MIN({quote_ident(key)}) k FROM {qold} "
                    f"UNION ALL SELECT MAX({quote_ident(key)}) FROM {qold} UNION ALL "
                    f"SELECT MIN({quote_ident(key)}) FROM {qnew} UNION ALL "
                    f"SELECT MAX({quote_ident(key)}) FROM {qnew}) x"
                    if key else "SELECT NULL, NULL")  # fmt: skip
        lo, hi = cur.fetchone()
    conn.commit()
    if key is None or lo is None:
        ranges: list[tuple[int | None, int | None]] = [(None, None)]
    else:
        starts = range(int(lo), int(hi) + 1, chunk_rows)
        ranges = [(a, min(a + chunk_rows - 1, int(hi))) for a in starts]
    result = Result(True, 0, 0, 0, 0.0, columns)
    for a, b in ranges:
        where = "" if a is None else f" WHERE {quote_ident(key or '')} BETWEEN %s AND %s"
        args = None if a is None else (a, b)
        with conn.cursor() as cur:
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            try:
                cur.execute(f"SELECT COUNT(*), {expr} FROM {qold}{where}", args)
                n_old, s_old = cur.fetchone()
                cur.execute(f"SELECT COUNT(*), {expr} FROM {qnew}{where}", args)
                n_new, s_new = cur.fetchone()
                rows = ""
                if key and (int(n_old) != int(n_new) or int(s_old) != int(s_new)):
                    rows = _differing(cur, old, new, key, columns, where, args)
            finally:
                cur.execute("COMMIT")
        result.chunks += 1
        result.rows_old += int(n_old)
        result.rows_new += int(n_new)
        if int(n_old) != int(n_new) or int(s_old) != int(s_new):
            span = "whole table" if a is None else f"{key} {a}..{b}"
            result.ok = False
            result.mismatch = (
                f"chunk {result.chunks} ({span}): {n_old} rows in {old} vs {n_new} in {new}, "
                f"checksum {int(s_old):08x} vs {int(s_new):08x}" + (f" ({rows})" if rows else "")
            )
            break
    result.seconds = time.perf_counter() - started
    return result
