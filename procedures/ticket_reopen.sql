-- reopen: resolved -> processing (closed is final)
-- One transaction via ticket_log_action (ticket locked first, then the log; all-or-nothing).
-- SQL SECURITY DEFINER so the application role needs EXECUTE only.
CREATE PROCEDURE ticket_reopen(IN p_ticket_id BIGINT UNSIGNED, IN p_agent_id BIGINT UNSIGNED, IN p_note VARCHAR(500))
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'reopen: resolved -> processing (closed is final)'
BEGIN
    CALL ticket_log_action(p_ticket_id, p_agent_id, 'reopen', NULL, NULL, p_note);
END
