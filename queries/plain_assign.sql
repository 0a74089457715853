-- name: plain_assign
-- Plain-SQL baseline of `ticket_assign` (bench workflow_throughput, in a scratch copy of the
-- tables without triggers): the state check is the WHERE clause, one matched row = allowed.
-- param :ticket_id BIGINT — the ticket
-- param :agent_id BIGINT — the new assignee
UPDATE service_tickets
SET current_status = 'processing', assigned_agent_id = :agent_id
WHERE id = :ticket_id AND current_status IN ('pending', 'processing')
