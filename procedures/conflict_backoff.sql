-- conflict_backoff(p_message, INOUT p_attempt): the retry step shared by the maintenance
-- procedures that run in chunks (escalate_stale_tickets, vip_refresh,
-- rebuild_daily_urgent_tickets). A chunk that hit a deadlock, a lock wait timeout or a Galera
-- certification failure is rolled back and run again; this counts the attempt, gives up with
-- 1213 (SQLSTATE 40001, p_message) at the fifth, and otherwise sleeps a little longer each time
-- so the other transaction can finish. The caller decides what "again" means (ITERATE/LEAVE).
CREATE PROCEDURE conflict_backoff(IN p_message VARCHAR(200), INOUT p_attempt INT)
CONTAINS SQL
SQL SECURITY INVOKER
COMMENT 'count a conflicting chunk attempt: 1213 at the fifth, else back off'
BEGIN
    SET p_attempt = p_attempt + 1;
    IF p_attempt >= 5 THEN
        SIGNAL SQLSTATE '40001' SET MESSAGE_TEXT = p_message, MYSQL_ERRNO = 1213;
    END IF;
    DO SLEEP(0.05 * p_attempt);
END
