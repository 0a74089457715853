-- assign: pending or processing -> processing, sets assigned_agent_id
-- One transaction via ticket_log_action (ticket locked first, then the log; all-or-nothing).
-- SQL SECURITY DEFINER so the application role needs EXECUTE only.
CREATE PROCEDURE ticket_assign(IN p_ticket_id BIGINT UNSIGNED, IN p_agent_id BIGINT UNSIGNED)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'assign: pending or processing -> processing, sets assigned_agent_id'
BEGIN
    CALL ticket_log_action(p_ticket_id, p_agent_id, 'assign', NULL, NULL, NULL);
END
