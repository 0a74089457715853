-- depends: 0004_ticket_logs_workflow_columns
-- Escalation thresholds are data, not code: escalate_stale_tickets() applies every enabled rule
-- (in rule_id order) to pending, unassigned tickets of from_priority created more than
-- unassigned_hours ago, raising them to to_priority and restarting their SLA clock.
CREATE TABLE escalation_rules (
    rule_id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
    from_priority    ENUM('urgent', 'high', 'medium', 'low') NOT NULL,
    to_priority      ENUM('urgent', 'high', 'medium', 'low') NOT NULL,
    unassigned_hours INT UNSIGNED NOT NULL,
    enabled          TINYINT(1) NOT NULL DEFAULT 1,
    PRIMARY KEY (rule_id),
    UNIQUE KEY uq_from_priority (from_priority),
    -- ENUM order is urgent < high < medium < low: escalating means a smaller index
    CONSTRAINT chk_escalation_raises CHECK (to_priority + 0 < from_priority + 0),
    CONSTRAINT chk_escalation_hours CHECK (unassigned_hours > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO escalation_rules (from_priority, to_priority, unassigned_hours)
VALUES ('medium', 'high', 24);
