-- depends: 0040_ticketdb_leases
-- The real order of a ticket's history, also across Galera nodes: ticket_logs.id interleaves
-- between nodes (auto_increment_increment = cluster size) and action_time has one-second
-- resolution, so "ORDER BY action_time, id" is not the order things happened.
-- ticket_logs_before_insert numbers each ticket's logs 1, 2, 3… from service_tickets.log_seq
-- (the ticket row is locked FOR UPDATE there already) and ticket_logs_after_insert stores the
-- new number back in the same transaction. Two nodes logging the same ticket at once both
-- update that ticket row, so one of them fails certification (1213) and is retried with the
-- next number. Rows logged before this migration (or bulk-loaded without triggers) have
-- ticket_seq NULL, which sorts first: they are older.
-- ADD COLUMN at the end of the row. ticket_logs: online (MariaDB does it instantly). service_tickets
-- cannot: MariaDB refuses INSTANT and LOCK=NONE there because of the indexed VIRTUAL column
-- `deadline` ("online rebuild with indexed virtual columns"), so it is one in-place rebuild during
-- which writes to service_tickets wait (reads go on); on Galera that is one TOI. Run it off-peak.
SET SESSION lock_wait_timeout = 10;
ALTER TABLE service_tickets
    ADD COLUMN log_seq INT UNSIGNED NOT NULL DEFAULT 0,
    ALGORITHM = INPLACE, LOCK = SHARED;
ALTER TABLE ticket_logs
    ADD COLUMN ticket_seq INT UNSIGNED NULL,
    ALGORITHM = INPLACE, LOCK = NONE;
