-- depends: 0005_escalation_rules
-- Tunables read by the scheduled jobs (procedures/, events/), so changing a batch size or the log
-- retention is an UPDATE, not a code change. NULL value = the documented default.
CREATE TABLE ticketdb_settings (
    name  VARCHAR(64)  NOT NULL,
    value VARCHAR(255) NULL,
    note  VARCHAR(255) NOT NULL,
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO ticketdb_settings (name, value, note) VALUES
    ('escalation_batch_size', '1000', 'tickets escalated per transaction by escalate_stale_tickets'),
    ('log_partitions_months_ahead', '3', 'monthly ticket_logs partitions kept ahead of the current month'),
    ('log_retention_months', NULL, 'drop ticket_logs months older than this many months; NULL keeps all'),
    ('urgent_horizon_hours', '24', 'daily_urgent_tickets lists open tickets whose deadline is within this many hours');
