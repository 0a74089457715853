-- depends: 0016_customers
-- cache_customer_version: per-customer version of "the set of open ticket ids", bumped by the
-- triggers cache_tickets_after_insert/update/delete in the same transaction as the ticket change,
-- whatever code path made it (procedure, Python, raw SQL). The Redis cache (ticketdb/cache.py)
-- tags each cached set with the version it was built from and serves it only while that is still
-- the committed version, so no committed change can leave a stale set being served.
-- Row customer_id = 0 is a global epoch: CALL cache_invalidate_all() bumps it (after a bulk load
-- that ran with @ticketdb_bulk_load = 1 or with triggers dropped) and every cached set expires.
CREATE TABLE cache_customer_version (
    customer_id BIGINT UNSIGNED NOT NULL,
    version     BIGINT UNSIGNED NOT NULL DEFAULT 1,
    PRIMARY KEY (customer_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO cache_customer_version (customer_id, version) VALUES (0, 1);
