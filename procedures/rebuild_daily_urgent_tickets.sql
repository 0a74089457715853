-- rebuild_daily_urgent_tickets(OUT p_rows): refill daily_urgent_tickets with the open tickets
-- that are 'urgent' or due within urgent_horizon_hours (ticketdb_settings, default 24; overdue
-- ones included, flagged). Built into daily_urgent_tickets_shadow, then swapped in with ONE
-- RENAME TABLE statement (atomic), so readers see the old list or the new one, never half.
-- The build reads service_tickets under READ COMMITTED (consistent read, no row locks held on
-- a million tickets). Serialized with GET_LOCK('ticketdb_urgent.<db>').
-- SQL SECURITY DEFINER: the event and an ops role need EXECUTE only, not CREATE/DROP.
CREATE PROCEDURE rebuild_daily_urgent_tickets(OUT p_rows INT)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'rebuild daily_urgent_tickets in a shadow table and swap it in atomically'
BEGIN
    DECLARE v_lock VARCHAR(200) DEFAULT CONCAT('ticketdb_urgent.', DATABASE());
    DECLARE v_locked TINYINT DEFAULT 0;
    DECLARE v_horizon INT;
    DECLARE v_now DATETIME;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        IF v_locked = 1 THEN
            DROP TABLE IF EXISTS daily_urgent_tickets_shadow;
            DO RELEASE_LOCK(v_lock);
        END IF;
        RESIGNAL;
    END;

    SET v_horizon = COALESCE(
        (SELECT CAST(value AS SIGNED) FROM ticketdb_settings WHERE name = 'urgent_horizon_hours'),
        24);
    IF IFNULL(GET_LOCK(v_lock, 60), 0) <> 1 THEN
        SIGNAL SQLSTATE '45000'
            SET MESSAGE_TEXT = 'daily_urgent_tickets rebuild is running elsewhere (lock timeout)';
    END IF;
    SET v_locked = 1;

    DROP TABLE IF EXISTS daily_urgent_tickets_shadow, daily_urgent_tickets_old;
    CREATE TABLE daily_urgent_tickets_shadow LIKE daily_urgent_tickets;
    SET v_now = NOW();
    SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
    START TRANSACTION;
    INSERT INTO daily_urgent_tickets_shadow
        (ticket_id, customer_id, priority, current_status, assigned_agent_id, deadline, overdue,
         built_at)
    SELECT id, customer_id, priority, current_status, assigned_agent_id, deadline,
           deadline < v_now, v_now
    FROM service_tickets
    WHERE current_status IN ('pending', 'processing')
      AND (priority = 'urgent' OR deadline < v_now + INTERVAL v_horizon HOUR);
    SET p_rows = ROW_COUNT();
    COMMIT;

    RENAME TABLE daily_urgent_tickets TO daily_urgent_tickets_old,
                 daily_urgent_tickets_shadow TO daily_urgent_tickets;
    DROP TABLE daily_urgent_tickets_old;
    DO RELEASE_LOCK(v_lock);
END
