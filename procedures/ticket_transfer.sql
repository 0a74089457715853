-- transfer: processing -> processing, from the assigned agent to another one, optionally with a
-- new priority (NULL keeps it). A priority change restarts the SLA clock (sla_started_at).
-- Rejected when p_from_agent_id is not the assigned agent (someone else moved it meanwhile).
-- One transaction via ticket_log_action: the log row and the agent/priority change are one
-- INSERT statement (the AFTER INSERT trigger), so neither can exist without the other.
-- SQL SECURITY DEFINER so the application role needs EXECUTE only.
CREATE PROCEDURE ticket_transfer(
    IN p_ticket_id     BIGINT UNSIGNED,
    IN p_from_agent_id BIGINT UNSIGNED,
    IN p_to_agent_id   BIGINT UNSIGNED,
    IN p_new_priority  VARCHAR(16)
)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'transfer: processing -> processing, new agent, optional new priority'
BEGIN
    CALL ticket_log_action(p_ticket_id, p_from_agent_id, 'transfer', p_to_agent_id,
                           p_new_priority, NULL);
END
