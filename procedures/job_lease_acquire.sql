-- job_lease_acquire(p_event, OUT p_won): "is this node the runner of event p_event for this
-- period?". Scheduled events are enabled on every node of a Galera cluster (ticketdb.galera
-- keeps them so) and each body starts with this call: the lease 'job.<db>.<event>' is held for
-- 80 % of the event's own interval (read from information_schema.events, so a changed schedule
-- changes the TTL) and never released, so the nodes firing in the same period lose, and when
-- the runner dies another node wins the next period. On a single server it always wins.
CREATE PROCEDURE job_lease_acquire(IN p_event VARCHAR(64), OUT p_won TINYINT)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'one runner per period for an event enabled on every node; OUT 1 = run'
BEGIN
    DECLARE v_value BIGINT DEFAULT NULL;
    DECLARE v_field VARCHAR(32) DEFAULT NULL;
    DECLARE v_seconds BIGINT;

    SELECT CAST(interval_value AS SIGNED), interval_field INTO v_value, v_field
    FROM information_schema.events
    WHERE event_schema = DATABASE() AND event_name = p_event;
    SET v_seconds = v_value * CASE v_field
        WHEN 'SECOND' THEN 1
        WHEN 'MINUTE' THEN 60
        WHEN 'HOUR' THEN 3600
        WHEN 'DAY' THEN 86400
        WHEN 'WEEK' THEN 604800
        ELSE 60 END;
    -- one-time or unknown schedule: a minute is enough to keep a twin firing out
    SET v_seconds = GREATEST(1, FLOOR(0.8 * COALESCE(v_seconds, 75)));
    CALL lease_acquire(CONCAT('job.', DATABASE(), '.', p_event), v_seconds, 0, p_won);
END
