-- Inserting a log row moves its ticket (the transition was validated BEFORE INSERT, with the
-- ticket row already locked). Skipped when @ticketdb_bulk_load = 1, so historical loads never
-- rewrite final states. Timestamps come from the log's action_time, so replaying history
-- produces the same closed_at / sla_started_at as live use.
-- A priority change (transfer with a new priority, escalate) restarts the SLA clock:
-- sla_started_at is assigned before priority because SET reads the old priority left to right.
-- 'reply' leaves the ticket as it is. Every insert (bulk or not) stores the log's ticket_seq in
-- service_tickets.log_seq (history order, migration 0041): two nodes logging the same ticket at
-- once then conflict on that row and one is retried (1213) with the next number.
CREATE TRIGGER ticket_logs_after_insert
AFTER INSERT ON ticket_logs
FOR EACH ROW
BEGIN
    IF @ticketdb_bulk_load <=> 1 THEN  -- updated_at kept: history loads change no ticket
        UPDATE service_tickets SET log_seq = NEW.ticket_seq, updated_at = updated_at
        WHERE id = NEW.ticket_id;
    ELSE
        CASE NEW.action_type
            WHEN 'assign' THEN
                UPDATE service_tickets
                SET current_status = 'processing', assigned_agent_id = NEW.agent_id,
                    log_seq = NEW.ticket_seq
                WHERE id = NEW.ticket_id;
            WHEN 'transfer' THEN
                UPDATE service_tickets
                SET sla_started_at = IF(NEW.new_priority IS NOT NULL AND NEW.new_priority <> priority,
                                        NEW.action_time, sla_started_at),
                    priority = IFNULL(NEW.new_priority, priority),
                    assigned_agent_id = NEW.to_agent_id,
                    log_seq = NEW.ticket_seq
                WHERE id = NEW.ticket_id;
            WHEN 'escalate' THEN
                UPDATE service_tickets
                SET sla_started_at = IF(NEW.new_priority <> priority, NEW.action_time, sla_started_at),
                    priority = NEW.new_priority,
                    log_seq = NEW.ticket_seq
                WHERE id = NEW.ticket_id;
            WHEN 'resolve' THEN
                UPDATE service_tickets SET current_status = 'resolved', log_seq = NEW.ticket_seq
                WHERE id = NEW.ticket_id;
            WHEN 'reopen' THEN
                UPDATE service_tickets SET current_status = 'processing', log_seq = NEW.ticket_seq
                WHERE id = NEW.ticket_id;
            WHEN 'close' THEN
                UPDATE service_tickets
                SET current_status = 'closed', closed_at = NEW.action_time,
                    log_seq = NEW.ticket_seq
                WHERE id = NEW.ticket_id;
            ELSE  -- reply: the ticket does not change (updated_at kept), only its log count
                UPDATE service_tickets SET log_seq = NEW.ticket_seq, updated_at = updated_at
                WHERE id = NEW.ticket_id;
        END CASE;
    END IF;
END
