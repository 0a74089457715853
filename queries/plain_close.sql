-- name: plain_close
-- Plain-SQL baseline of `ticket_close`: any open or resolved ticket -> closed, closed_at = now.
-- param :ticket_id BIGINT — the ticket
UPDATE service_tickets
SET current_status = 'closed', closed_at = NOW()
WHERE id = :ticket_id AND current_status <> 'closed'
