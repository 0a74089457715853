-- Every minute: queue alerts for tickets due within the hour, and purge delivered/cleared alerts
-- older than 30 days (bounded per run). Delivery is `ticketdb alerts run` (docs/operations.md).
-- On a Galera cluster this event is enabled on every node; job_lease_acquire elects one runner
-- per period (another node takes over when it dies). A certification failure or deadlock (1213)
-- is retried up to 5 times.
CREATE EVENT alert_enqueue_event
ON SCHEDULE EVERY 1 MINUTE
COMMENT 'queue deadline alerts (alert_outbox) and purge old ones'
DO
BEGIN
    DECLARE v_run TINYINT DEFAULT 0;
    DECLARE v_failed TINYINT DEFAULT 1;
    DECLARE v_attempt INT DEFAULT 0;
    CALL job_lease_acquire('alert_enqueue_event', v_run);
    WHILE v_run = 1 AND v_failed = 1 AND v_attempt < 5 DO
        SET v_attempt = v_attempt + 1;
        attempt: BEGIN
            DECLARE EXIT HANDLER FOR 1213, 1205
            BEGIN
                SET v_failed = 1;
                DO SLEEP(0.05 * v_attempt);
            END;
            SET v_failed = 0;
            CALL alert_enqueue(60);
            DELETE FROM alert_outbox
            WHERE status IN ('sent', 'cleared') AND created_at < NOW() - INTERVAL 30 DAY
            LIMIT 10000;
        END attempt;
    END WHILE;
END
