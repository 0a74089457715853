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

Modules: ``model`` (what is read and reported), ``normalise`` (pure text, no connection),
``read`` (a snapshot of one database, through ``ticketdb.catalog``), ``diff`` (comparing two
snapshots), ``run`` (the scratch reference database and :func:`check`), ``sql`` (statements
that turn one snapshot into the other) and ``capture`` (``drift --sql`` and
``drift --write-migration``).
"""

from ticketdb.drift.diff import TOOL_PREFIX, compare, coverage_warnings, unified
from ticketdb.drift.model import KIND_ORDER, Definition, Difference, DriftReport, Info, Progress
from ticketdb.drift.normalise import (
    normalise_event,
    normalise_routine,
    normalise_table,
    signature,
    starts_at_fixed_time,
    strip_database,
    strip_definer,
)
from ticketdb.drift.read import TOOL_TABLE_PATTERNS, TOOL_TABLES, is_tool_table, snapshot
from ticketdb.drift.run import SCRATCH_PURPOSE, check, reference_database, stale_scratch_databases

__all__ = [
    "KIND_ORDER",
    "SCRATCH_PURPOSE",
    "TOOL_PREFIX",
    "TOOL_TABLES",
    "TOOL_TABLE_PATTERNS",
    "Definition",
    "Difference",
    "DriftReport",
    "Info",
    "Progress",
    "check",
    "compare",
    "coverage_warnings",
    "is_tool_table",
    "normalise_event",
    "normalise_routine",
    "normalise_table",
    "reference_database",
    "signature",
    "snapshot",
    "stale_scratch_databases",
    "starts_at_fixed_time",
    "strip_database",
    "strip_definer",
    "unified",
]
