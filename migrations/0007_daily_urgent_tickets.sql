-- depends: 0006_ticketdb_settings
-- The precomputed urgent list, rebuilt nightly by rebuild_daily_urgent_tickets() into a shadow
-- table and swapped in with one RENAME TABLE, so readers never see it half built.
-- Open tickets that are 'urgent' or whose deadline is within the horizon (overdue included).
CREATE TABLE daily_urgent_tickets (
    ticket_id         BIGINT UNSIGNED NOT NULL,
    customer_id       BIGINT UNSIGNED NOT NULL,
    priority          ENUM('urgent', 'high', 'medium', 'low') NOT NULL,
    current_status    ENUM('pending', 'processing', 'resolved', 'closed') NOT NULL,
    assigned_agent_id BIGINT UNSIGNED NULL,
    deadline          DATETIME NOT NULL,
    overdue           TINYINT(1) NOT NULL,
    built_at          DATETIME NOT NULL,
    PRIMARY KEY (ticket_id),
    KEY idx_deadline (deadline),
    KEY idx_agent (assigned_agent_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
