-- The one transaction every workflow procedure runs (ticket_assign, ticket_reply, …):
--   1. SELECT … FOR UPDATE on the ticket  (fixed lock order: service_tickets, then ticket_logs)
--   2. INSERT the log row; its triggers validate the transition and move the ticket in the same
--      statement, so a log never exists without its state change, nor the reverse.
-- Any error rolls the whole transaction back and is re-raised unchanged (SIGNAL 45000 from the
-- triggers, 1213 deadlock, 1205 lock wait timeout — the Python API retries the last two).
-- It starts and commits its own transaction: do not CALL it inside an open transaction (START
-- TRANSACTION would commit that one implicitly).
-- It switches @ticketdb_bulk_load off: a session that forgot the bulk-load switch on must not
-- log live actions without moving the ticket.
-- It stores the session's @ticketdb_request_key (set once per connection by ticketdb.workflow;
-- NULL otherwise) in the log: after a lost acknowledgement the Workflow counts its session's
-- logs of the ticket to tell a committed call from one to run again (migration 0042).
-- SQL SECURITY DEFINER: the application role holds EXECUTE on the ticket_* procedures only,
-- never INSERT on ticket_logs or UPDATE on service_tickets.
CREATE PROCEDURE ticket_log_action(
    IN p_ticket_id    BIGINT UNSIGNED,
    IN p_agent_id     BIGINT UNSIGNED,
    IN p_action       VARCHAR(16),
    IN p_to_agent_id  BIGINT UNSIGNED,
    IN p_new_priority VARCHAR(16),
    IN p_note         VARCHAR(500)
)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'one workflow transaction: lock ticket, insert log (triggers move the ticket)'
BEGIN
    DECLARE v_status VARCHAR(16) DEFAULT NULL;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    SET @ticketdb_bulk_load = NULL;
    START TRANSACTION;
    SELECT current_status INTO v_status
    FROM service_tickets WHERE id = p_ticket_id FOR UPDATE;
    INSERT INTO ticket_logs (ticket_id, agent_id, action_type, to_agent_id, new_priority, note,
                             request_key)
    VALUES (p_ticket_id, p_agent_id, p_action, p_to_agent_id, p_new_priority, p_note,
            @ticketdb_request_key);
    COMMIT;
END
