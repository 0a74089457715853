-- name: workflow_logs_by_key
-- Settling a call whose connection was lost: the ticket's logs written under each lost
-- session's key (ticket_logs.request_key, migration 0042); one more than acknowledged means the
-- lost call committed.
-- param :ticket_id BIGINT — the ticket of the lost call
-- param :keys TUPLE — the lost sessions' keys (bound as a parenthesised list)
SELECT request_key, COUNT(*) AS logs
FROM ticket_logs
WHERE ticket_id = :ticket_id AND request_key IN :keys
GROUP BY request_key
