-- name: plain_resolve
-- Plain-SQL baseline of `ticket_resolve`: processing -> resolved.
-- param :ticket_id BIGINT — the ticket
UPDATE service_tickets
SET current_status = 'resolved'
WHERE id = :ticket_id AND current_status = 'processing'
