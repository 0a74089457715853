-- close: pending, processing or resolved -> closed, sets closed_at
-- One transaction via ticket_log_action (ticket locked first, then the log; all-or-nothing).
-- SQL SECURITY DEFINER so the application role needs EXECUTE only.
CREATE PROCEDURE ticket_close(IN p_ticket_id BIGINT UNSIGNED, IN p_agent_id BIGINT UNSIGNED)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'close: pending, processing or resolved -> closed, sets closed_at'
BEGIN
    CALL ticket_log_action(p_ticket_id, p_agent_id, 'close', NULL, NULL, NULL);
END
