-- name: plain_reply_check
-- Plain-SQL baseline of `ticket_reply`'s check: lock the ticket and read its status (a reply is
-- allowed while pending or processing) before the log row is inserted in the same transaction.
-- param :ticket_id BIGINT — the ticket
SELECT current_status
FROM service_tickets
WHERE id = :ticket_id
FOR UPDATE
