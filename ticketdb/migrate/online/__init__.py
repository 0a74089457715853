"""Online schema change: a blocking ALTER of a big live table run as a verified copy.

pt-online-schema-change copies the rows (chunked, throttled, its own copy triggers keep the
copy in sync); a plugin stops it just before its own swap, ticketdb checksums old against new
per primary-key chunk and then swaps the tables itself, moving the table's own triggers inside
one fence (docs/online-ddl.md). Every step is journaled in ``ticketdb_online_copy`` so a killed
run is finished or undone by ``migrate repair``.
"""

from ticketdb.migrate.online.engine import OnlineResult, run_online_alter

__all__ = ["OnlineResult", "run_online_alter"]
