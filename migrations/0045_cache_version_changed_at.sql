-- depends: 0042_ticket_log_request_key
-- changed_at: when a customer's cache version was last bumped, maintained by the column itself
-- (ON UPDATE CURRENT_TIMESTAMP(6): the triggers' upsert changes `version`, so it fires; the
-- triggers are not touched). The VIP cache follower (`ticketdb vip follow`) reads "versions
-- bumped since my last poll minus an overlap" through idx_cache_version_changed (covering:
-- changed_at, version, and the primary key customer_id) instead of re-reading every VIP's row
-- each poll; a periodic full sweep catches a transaction that committed later than the overlap
-- after its bump (docs/operations.md). The value is the bumping statement's start time, not its
-- commit time: that gap is what the overlap is for.
SET SESSION lock_wait_timeout = 10;
ALTER TABLE cache_customer_version
    ADD COLUMN changed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
        ON UPDATE CURRENT_TIMESTAMP(6),
    ADD KEY idx_cache_version_changed (changed_at, version),
    ALGORITHM = INPLACE, LOCK = NONE;
