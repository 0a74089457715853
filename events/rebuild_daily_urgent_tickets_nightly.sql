-- Nightly rebuild of daily_urgent_tickets at 02:00 server time
-- (procedures/rebuild_daily_urgent_tickets.sql: one DML transaction, retried on 1213). On a
-- Galera cluster the event is enabled on every node and job_lease_acquire elects one runner
-- per night (another node takes over when it dies).
CREATE EVENT rebuild_daily_urgent_tickets_nightly
ON SCHEDULE EVERY 1 DAY STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 2 HOUR
ON COMPLETION PRESERVE
ENABLE
COMMENT 'nightly 02:00: CALL rebuild_daily_urgent_tickets'
DO
BEGIN
    DECLARE v_run TINYINT DEFAULT 0;
    CALL job_lease_acquire('rebuild_daily_urgent_tickets_nightly', v_run);
    IF v_run = 1 THEN
        CALL rebuild_daily_urgent_tickets(@ticketdb_urgent_rows);
    END IF;
END
