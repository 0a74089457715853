-- maintain_log_partitions(p_months_ahead, p_retain_months, OUT p_changes): the daily job
-- (events/maintain_log_partitions_daily.sql) behind `ticketdb partitions ensure`.
--   * splits the MAXVALUE partition of ticket_logs until every month up to p_months_ahead after
--     the current one has its own partition pYYYYMM (VALUES LESS THAN TO_DAYS(first day of the
--     next month)) — the same names and bounds ticketdb/partitions.py produces;
--   * with p_retain_months > 0, drops month partitions that end on or before the first day of the
--     month p_retain_months before the current one (their logs are deleted).
-- NULL arguments read ticketdb_settings (log_partitions_months_ahead, default 3;
-- log_retention_months, default NULL = keep everything). p_changes = ALTER statements run.
-- Serialized with the cluster-wide lease 'partitions.<db>.ticket_logs' (ticketdb_leases, held up
-- to 600 s; a named lock would be node-local on Galera) — the lease
-- ticketdb.partitions.maintenance_lock takes — so two runs (event, CLI, any node) never collide.
-- The plan is read after the lease is won, so a run that waited for another node's split
-- re-plans and finds nothing left to do. A run that cannot get the lease within 60 s fails with
-- SIGNAL 45000. Idempotent. Call it outside a transaction (the lease commits on its own).
-- Dynamic SQL (PREPARE) is allowed here, unlike in triggers.
-- SQL SECURITY DEFINER: the event and an ops role need EXECUTE only, not ALTER.
CREATE PROCEDURE maintain_log_partitions(
    IN p_months_ahead  INT,
    IN p_retain_months INT,
    OUT p_changes      INT
)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'add ticket_logs months ahead (split MAXVALUE), optionally drop old months'
BEGIN
    DECLARE v_lock VARCHAR(190) DEFAULT CONCAT('partitions.', DATABASE(), '.ticket_logs');
    DECLARE v_locked TINYINT DEFAULT 0;
    DECLARE v_ahead INT;
    DECLARE v_retain INT;
    DECLARE v_future VARCHAR(64) DEFAULT NULL;
    DECLARE v_max_bound INT DEFAULT NULL;
    DECLARE v_this_month DATE;
    DECLARE v_month DATE;
    DECLARE v_target INT;
    DECLARE v_cutoff INT;
    DECLARE v_drop TEXT DEFAULT NULL;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        IF v_locked = 1 THEN
            CALL lease_release(v_lock);
        END IF;
        RESIGNAL;
    END;

    SET p_changes = 0;
    SET v_ahead = COALESCE(p_months_ahead,
        (SELECT CAST(value AS SIGNED) FROM ticketdb_settings
         WHERE name = 'log_partitions_months_ahead'), 3);
    SET v_retain = COALESCE(p_retain_months,
        (SELECT CAST(value AS SIGNED) FROM ticketdb_settings
         WHERE name = 'log_retention_months'), 0);

    CALL lease_acquire(v_lock, 600, 60, v_locked);
    IF v_locked <> 1 THEN
        SIGNAL SQLSTATE '45000'
            SET MESSAGE_TEXT = 'partition maintenance of ticket_logs is running elsewhere (lease timeout)';
    END IF;

    SELECT partition_name INTO v_future
    FROM information_schema.partitions
    WHERE table_schema = DATABASE() AND table_name = 'ticket_logs'
      AND partition_description = 'MAXVALUE';
    IF v_future IS NULL THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ticket_logs has no MAXVALUE partition';
    END IF;
    SELECT MAX(CAST(partition_description AS UNSIGNED)) INTO v_max_bound
    FROM information_schema.partitions
    WHERE table_schema = DATABASE() AND table_name = 'ticket_logs'
      AND partition_description <> 'MAXVALUE';

    SET v_this_month = CURRENT_DATE - INTERVAL (DAYOFMONTH(CURRENT_DATE) - 1) DAY;
    SET v_target = TO_DAYS(v_this_month + INTERVAL (v_ahead + 1) MONTH);
    SET v_month = IF(v_max_bound IS NULL, v_this_month, FROM_DAYS(v_max_bound));
    WHILE TO_DAYS(v_month) < v_target DO
        SET @ticketdb_partition_sql = CONCAT(
            'ALTER TABLE ticket_logs REORGANIZE PARTITION `', v_future, '` INTO (',
            'PARTITION `', DATE_FORMAT(v_month, 'p%Y%m'), '` VALUES LESS THAN (',
            TO_DAYS(v_month + INTERVAL 1 MONTH), '), ',
            'PARTITION `', v_future, '` VALUES LESS THAN MAXVALUE)');
        PREPARE ticketdb_stmt FROM @ticketdb_partition_sql;
        EXECUTE ticketdb_stmt;
        DEALLOCATE PREPARE ticketdb_stmt;
        SET p_changes = p_changes + 1;
        SET v_month = v_month + INTERVAL 1 MONTH;
    END WHILE;

    IF v_retain > 0 THEN
        SET v_cutoff = TO_DAYS(v_this_month - INTERVAL v_retain MONTH);
        SELECT GROUP_CONCAT(CONCAT('`', partition_name, '`') ORDER BY partition_ordinal_position)
        INTO v_drop
        FROM information_schema.partitions
        WHERE table_schema = DATABASE() AND table_name = 'ticket_logs'
          AND partition_description <> 'MAXVALUE'
          AND CAST(partition_description AS UNSIGNED) <= v_cutoff;
        IF v_drop IS NOT NULL THEN
            SET @ticketdb_partition_sql = CONCAT('ALTER TABLE ticket_logs DROP PARTITION ', v_drop);
            PREPARE ticketdb_stmt FROM @ticketdb_partition_sql;
            EXECUTE ticketdb_stmt;
            DEALLOCATE PREPARE ticketdb_stmt;
            SET p_changes = p_changes + 1;
        END IF;
    END IF;

    SET @ticketdb_partition_sql = NULL;
    CALL lease_release(v_lock);
END
