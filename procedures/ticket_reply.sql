-- reply: allowed while pending or processing, the ticket does not change
-- One transaction via ticket_log_action (ticket locked first, then the log; all-or-nothing).
-- SQL SECURITY DEFINER so the application role needs EXECUTE only.
CREATE PROCEDURE ticket_reply(IN p_ticket_id BIGINT UNSIGNED, IN p_agent_id BIGINT UNSIGNED, IN p_note VARCHAR(500))
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'reply: allowed while pending or processing, the ticket does not change'
BEGIN
    CALL ticket_log_action(p_ticket_id, p_agent_id, 'reply', NULL, NULL, p_note);
END
