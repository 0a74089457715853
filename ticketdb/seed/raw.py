"""The reference a seed is judged against: a raw LOAD DATA of the very same rows into bare tables.

"Bare" = same columns, primary key and partitioning as the real tables, but no secondary index
and no trigger, in a scratch database that is always dropped afterwards. Rows are generated to files
first (not timed) so only the server's load is measured; each table is one plain LOAD DATA LOCAL
INFILE, one after the other, with the same session settings the seed uses.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketdb.db import connection, quote_ident
from ticketdb.dsn import DSN
from ticketdb.seed.generate import SeedSpec
from ticketdb.seed.load import bulk_connection, generate_files, load_file, spec_rows
from ticketdb.seed.runner import TARGETS, drop_keys, secondary_keys, show_create
from ticketdb.server import databases

#: The bare tables live in ``<database>__rawload_<8 hex>`` (databases.scratch_name).
SCRATCH_PURPOSE = "rawload"


@dataclass
class RawResult:
    checksum: str
    rows: dict[str, int]
    generate_seconds: float
    load_seconds: dict[str, float]

    @property
    def seconds(self) -> float:
        return sum(self.load_seconds.values())

    def as_dict(self) -> dict[str, Any]:
        total = sum(self.rows.values())
        return {
            "checksum": self.checksum,
            "rows": self.rows,
            "generate_seconds": round(self.generate_seconds, 3),
            "load_seconds": {k: round(v, 3) for k, v in self.load_seconds.items()},
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(total / self.seconds) if self.seconds else None,
        }


def raw_load(dsn: DSN, spec: SeedSpec, workdir: Path | None = None) -> RawResult:
    """Time a plain LOAD DATA of ``spec``'s rows into bare copies of both tables."""
    folder = Path(tempfile.mkdtemp(prefix="ticketdb-raw-", dir=workdir))
    try:
        with databases.scratch_database(dsn, SCRATCH_PURPOSE) as scratch:
            with connection(dsn) as src, connection(dsn, database=False) as admin:
                with admin.cursor() as cur:
                    for target in TARGETS:
                        bare = f"{quote_ident(scratch.database)}.{quote_ident(target.table)}"
                        orig = f"{quote_ident(dsn.database)}.{quote_ident(target.table)}"
                        cur.execute(f"CREATE TABLE {bare} LIKE {orig}")
                        drop_keys(admin, bare, secondary_keys(show_create(src, target.table)))
            t0 = time.perf_counter()
            stats, paths = generate_files(spec, folder)
            gen_seconds = time.perf_counter() - t0
            seconds: dict[str, float] = {}
            rows: dict[str, int] = {}
            conn = bulk_connection(scratch, spec_rows(spec))
            try:
                for target, path in zip(TARGETS, paths, strict=True):
                    t0 = time.perf_counter()
                    rows[target.table] = load_file(conn, target, path)
                    seconds[target.table] = time.perf_counter() - t0
            finally:
                conn.close()
            return RawResult(stats.checksum, rows, gen_seconds, seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
