-- Daily ticket_logs partition maintenance at 01:00 server time
-- (procedures/maintain_log_partitions.sql): months ahead and retention come from
-- ticketdb_settings. Serialized with `ticketdb partitions ensure` through the cluster-wide lease
-- the procedure takes. On a Galera cluster the event is enabled on every node and
-- job_lease_acquire elects one runner per day (another node takes over when it dies).
CREATE EVENT maintain_log_partitions_daily
ON SCHEDULE EVERY 1 DAY STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 1 HOUR
ON COMPLETION PRESERVE
ENABLE
COMMENT 'daily 01:00: CALL maintain_log_partitions (settings)'
DO
BEGIN
    DECLARE v_run TINYINT DEFAULT 0;
    CALL job_lease_acquire('maintain_log_partitions_daily', v_run);
    IF v_run = 1 THEN
        CALL maintain_log_partitions(NULL, NULL, @ticketdb_partition_changes);
    END IF;
END
