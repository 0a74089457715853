-- Every minute: queue alerts for tickets due within the hour, and purge delivered/cleared alerts
-- older than 30 days (bounded per run). Delivery is `ticketdb alerts run` (docs/operations.md).
CREATE EVENT alert_enqueue_event
ON SCHEDULE EVERY 1 MINUTE
COMMENT 'queue deadline alerts (alert_outbox) and purge old ones'
DO
BEGIN
    CALL alert_enqueue(60);
    DELETE FROM alert_outbox
    WHERE status IN ('sent', 'cleared') AND created_at < NOW() - INTERVAL 30 DAY
    LIMIT 10000;
END
