-- name: alerts_pending
-- How many alerts wait for delivery (`ticketdb alerts enqueue` prints it).
SELECT COUNT(*) AS pending FROM alert_outbox WHERE status = 'pending'
