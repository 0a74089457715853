-- Hourly escalation (procedures/escalate_stale_tickets.sql). First run one hour after creation,
-- so (re)deploying never escalates in the middle of a migration. The count goes to a user
-- variable of the event's own session and is discarded.
CREATE EVENT escalate_stale_tickets_hourly
ON SCHEDULE EVERY 1 HOUR STARTS CURRENT_TIMESTAMP + INTERVAL 1 HOUR
ON COMPLETION PRESERVE
ENABLE
COMMENT 'hourly: CALL escalate_stale_tickets'
DO CALL escalate_stale_tickets(@ticketdb_escalated)
