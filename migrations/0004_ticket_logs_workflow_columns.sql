-- depends: 0003_ticket_logs_monthly_partitions
-- A transfer and an escalation change more than the status: the log row must say to whom and to
-- which priority, so the ticket's state can be replayed from its logs alone (docs/workflow.md).
-- Added at the end of the row (instant ADD COLUMN, and LOAD DATA column lists stay valid).
-- ticketdb: allow TDB024, TDB028 applied before the online-DDL rules existed; kept as it ran
ALTER TABLE ticket_logs
    ADD COLUMN to_agent_id BIGINT UNSIGNED NULL,
    ADD COLUMN new_priority ENUM('urgent', 'high', 'medium', 'low') NULL;
