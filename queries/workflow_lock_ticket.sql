-- name: workflow_lock_ticket
-- Settling a call whose connection was lost: a shared lock on the ticket row waits for a
-- transaction of the old session still holding it (ticket_log_action locks it FOR UPDATE
-- first). Run in autocommit, so the lock is released at once.
-- param :ticket_id BIGINT — the ticket of the lost call
SELECT id FROM service_tickets WHERE id = :ticket_id LOCK IN SHARE MODE
