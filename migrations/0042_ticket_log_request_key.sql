-- depends: 0041_ticket_log_sequence
-- request_key: which Workflow session wrote a log, so a call whose acknowledgement was lost
-- (its node died, or its connection was cut, after the COMMIT was sent) is found on the node
-- the Workflow reconnects to instead of being run a second time (ticketdb/workflow.py,
-- docs/workflow.md "Node loss"). ticket_log_action stores @ticketdb_request_key, a random
-- 63-bit value the Workflow sets once per connection; other writers leave it NULL.
-- No index: the check runs only after a lost call and reads one ticket's logs through
-- idx_ticket_time. ADD COLUMN NULL at the end: INSTANT on MariaDB 10.11 and MySQL 8.0.12+
-- (metadata only, also for the partitioned table; MySQL accepts only LOCK=DEFAULT with INSTANT).
-- Even an instant change waits for the table's metadata lock: give up after 10 s instead of
-- stalling every query queued behind it.
SET SESSION lock_wait_timeout = 10;
ALTER TABLE ticket_logs
    ADD COLUMN request_key BIGINT UNSIGNED NULL,
    ALGORITHM = INSTANT, LOCK = DEFAULT;
