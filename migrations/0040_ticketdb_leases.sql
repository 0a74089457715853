-- depends: 0017_cache_customer_version
-- ticketdb_leases: cluster-wide mutual exclusion that also holds on Galera, where GET_LOCK is
-- node-local. A lease is won by one UPDATE … WHERE (expired OR mine) committed on its own
-- (procedures/lease_acquire.sql): every node certifies the same row, so exactly one wins.
-- Times are UTC (UTC_TIMESTAMP(6)) so sessions with different time_zone agree.
--   * mutexes (partition maintenance, the urgent-list rebuild) are released when done;
--   * job leases (procedures/job_lease_acquire.sql) are held for most of an event's period so
--     that, with the event enabled on every node, one node runs each period.
CREATE TABLE ticketdb_leases (
    name        VARCHAR(190) NOT NULL,
    owner       VARCHAR(190) NULL,
    acquired_at DATETIME(6) NULL,
    expires_at  DATETIME(6) NOT NULL DEFAULT '1970-01-02 00:00:00',
    wins        BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
