-- service_tickets: one row per customer ticket.
-- The SLA clock is its own column (sla_started_at) and `deadline` is derived from it, so that a
-- priority change (escalation, transfer) restarts the clock instead of making the ticket
-- instantly overdue (see docs/schema.md). `deadline` is VIRTUAL: computed on read, but indexable.
CREATE TABLE service_tickets (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    customer_id       BIGINT UNSIGNED NOT NULL,
    title             VARCHAR(200)    NOT NULL,
    priority          ENUM('urgent', 'high', 'medium', 'low') NOT NULL,
    current_status    ENUM('pending', 'processing', 'resolved', 'closed') NOT NULL DEFAULT 'pending',
    assigned_agent_id BIGINT UNSIGNED NULL,
    created_at        DATETIME        NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at        DATETIME        NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    closed_at         DATETIME        NULL,
    sla_started_at    DATETIME        NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deadline          DATETIME GENERATED ALWAYS AS (
        DATE_ADD(sla_started_at, INTERVAL (CASE priority
            WHEN 'urgent' THEN 2
            WHEN 'high' THEN 24
            ELSE 72 END) HOUR)
    ) VIRTUAL,
    PRIMARY KEY (id),
    -- covering index of the timeout-warning query; its (priority, deadline) prefix also serves
    -- every lookup an idx_priority_deadline would
    KEY idx_priority_deadline_status (priority, deadline, current_status),
    -- escalation scan: pending + medium + created before a cut-off
    KEY idx_status_priority_created (current_status, priority, created_at),
    KEY idx_customer_status (customer_id, current_status)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
