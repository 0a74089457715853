-- depends: 0001_service_tickets
-- ticket_logs: one row per action on a ticket, partitioned by month of action_time.
--
-- Integrity without a FOREIGN KEY: InnoDB refuses foreign keys on partitioned tables
-- (ERROR 1506), so ticket_id -> service_tickets.id is enforced by triggers instead:
--   * a BEFORE INSERT trigger on ticket_logs rejects a log whose ticket does not exist;
--   * a BEFORE DELETE trigger on service_tickets rejects deleting a ticket that has logs.
-- (triggers/, applied by `ticketdb migrate up` after the versioned migrations.)
--
-- Every unique key must contain the partitioning column (ERROR 1503), hence the PK
-- (id, action_time). The migration creates only the MAXVALUE catch-all; the next migration
-- splits it into monthly partitions around the current date, and `ticketdb partitions ensure`
-- and the daily maintenance event keep months ahead.
CREATE TABLE ticket_logs (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    ticket_id   BIGINT UNSIGNED NOT NULL,
    agent_id    BIGINT UNSIGNED NULL,
    action_type ENUM('assign', 'reply', 'transfer', 'resolve', 'reopen', 'close', 'escalate') NOT NULL,
    action_time DATETIME        NOT NULL DEFAULT CURRENT_TIMESTAMP,
    note        VARCHAR(500)    NULL,
    PRIMARY KEY (id, action_time),
    KEY idx_ticket_time (ticket_id, action_time)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
PARTITION BY RANGE (TO_DAYS(action_time)) (
    PARTITION p_future VALUES LESS THAN MAXVALUE
);
