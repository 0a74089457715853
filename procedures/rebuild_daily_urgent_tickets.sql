-- rebuild_daily_urgent_tickets(OUT p_rows): refill daily_urgent_tickets with the open tickets
-- that are 'urgent' or due within urgent_horizon_hours (ticketdb_settings, default 24; overdue
-- ones included, flagged). DML only, in ONE transaction (DELETE the old list, INSERT … SELECT
-- the new one, COMMIT): readers' consistent reads see the old list or the new one, never half,
-- and no DDL runs — on Galera a RENAME/CREATE runs under TOI, stalls the whole cluster and
-- aborts concurrent readers with 1213. The build reads service_tickets under READ COMMITTED
-- (consistent read, no row locks held on a million tickets). Serialized by the cluster-wide
-- lease 'urgent.<db>' (ticketdb_leases); a deadlock or certification failure (1213) of the
-- swap transaction is retried up to 5 times. Call it outside a transaction.
-- SQL SECURITY DEFINER: the event and an ops role need EXECUTE only.
CREATE PROCEDURE rebuild_daily_urgent_tickets(OUT p_rows INT)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'rebuild daily_urgent_tickets in one DML transaction (old or new list, never half)'
BEGIN
    DECLARE v_lock VARCHAR(190) DEFAULT CONCAT('urgent.', DATABASE());
    DECLARE v_locked TINYINT DEFAULT 0;
    DECLARE v_horizon INT;
    DECLARE v_now DATETIME;
    DECLARE v_attempt INT DEFAULT 0;
    DECLARE v_failed TINYINT DEFAULT 0;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        IF v_locked = 1 THEN
            CALL lease_release(v_lock);
        END IF;
        RESIGNAL;
    END;

    SET v_horizon = COALESCE(
        (SELECT CAST(value AS SIGNED) FROM ticketdb_settings WHERE name = 'urgent_horizon_hours'),
        24);
    CALL lease_acquire(v_lock, 600, 60, v_locked);
    IF v_locked <> 1 THEN
        SIGNAL SQLSTATE '45000'
            SET MESSAGE_TEXT = 'daily_urgent_tickets rebuild is running elsewhere (lease timeout)';
    END IF;

    SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
    swap: LOOP
        SET v_failed = 0;
        attempt: BEGIN
            DECLARE EXIT HANDLER FOR 1213, 1205
            BEGIN
                ROLLBACK;
                SET v_failed = 1;
            END;
            SET v_now = NOW();
            START TRANSACTION;
            -- ticketdb: allow TDB007 the whole list is replaced in the same transaction
            DELETE FROM daily_urgent_tickets;
            INSERT INTO daily_urgent_tickets
                (ticket_id, customer_id, priority, current_status, assigned_agent_id, deadline,
                 overdue, built_at)
            SELECT id, customer_id, priority, current_status, assigned_agent_id, deadline,
                   deadline < v_now, v_now
            FROM service_tickets
            WHERE current_status IN ('pending', 'processing')
              AND (priority = 'urgent' OR deadline < v_now + INTERVAL v_horizon HOUR);
            SET p_rows = ROW_COUNT();
            COMMIT;
        END attempt;
        IF v_failed = 0 THEN
            LEAVE swap;
        END IF;
        CALL conflict_backoff('rebuild_daily_urgent_tickets: still conflicting after 5 attempts',
                              v_attempt);
    END LOOP swap;
    CALL lease_release(v_lock);
END
