-- Hourly escalation (procedures/escalate_stale_tickets.sql). First run one hour after creation,
-- so (re)deploying never escalates in the middle of a migration. The count goes to a user
-- variable of the event's own session and is discarded. On a Galera cluster the event is
-- enabled on every node and job_lease_acquire elects one runner per period; a 1213 that
-- escapes the procedure's own chunk retry (certification failure) is retried up to 5 times.
CREATE EVENT escalate_stale_tickets_hourly
ON SCHEDULE EVERY 1 HOUR STARTS CURRENT_TIMESTAMP + INTERVAL 1 HOUR
ON COMPLETION PRESERVE
ENABLE
COMMENT 'hourly: CALL escalate_stale_tickets'
DO
BEGIN
    DECLARE v_run TINYINT DEFAULT 0;
    DECLARE v_failed TINYINT DEFAULT 1;
    DECLARE v_attempt INT DEFAULT 0;
    CALL job_lease_acquire('escalate_stale_tickets_hourly', v_run);
    WHILE v_run = 1 AND v_failed = 1 AND v_attempt < 5 DO
        SET v_attempt = v_attempt + 1;
        attempt: BEGIN
            DECLARE EXIT HANDLER FOR 1213, 1205
            BEGIN
                SET v_failed = 1;
                DO SLEEP(0.05 * v_attempt);
            END;
            SET v_failed = 0;
            CALL escalate_stale_tickets(@ticketdb_escalated);
        END attempt;
    END WHILE;
END
