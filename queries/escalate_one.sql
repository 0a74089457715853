-- name: escalate_one
-- Escalate one ticket the way application code would, one statement and one commit per ticket:
-- an 'escalate' log row whose AFTER INSERT trigger raises the priority and restarts the SLA
-- clock (the same row escalate_stale_tickets() writes). The row-by-row baseline of `ticketdb
-- bench`.
-- param :ticket_id BIGINT — the ticket
-- param :now DATETIME — action time
-- param :note VARCHAR — why
-- param :to_priority ENUM — the new priority
INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time, note, new_priority)
VALUES (:ticket_id, NULL, 'escalate', :now, :note, :to_priority)
