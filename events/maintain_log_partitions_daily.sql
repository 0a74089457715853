-- Daily ticket_logs partition maintenance at 01:00 server time
-- (procedures/maintain_log_partitions.sql): months ahead and retention come from
-- ticketdb_settings. Serialized with `ticketdb partitions ensure` through GET_LOCK.
CREATE EVENT maintain_log_partitions_daily
ON SCHEDULE EVERY 1 DAY STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 1 HOUR
ON COMPLETION PRESERVE
ENABLE
COMMENT 'daily 01:00: CALL maintain_log_partitions (settings)'
DO CALL maintain_log_partitions(NULL, NULL, @ticketdb_partition_changes)
