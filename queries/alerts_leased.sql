-- name: alerts_leased
-- Pending alerts a worker holds a live lease on right now, for `ticketdb alerts status`.
SELECT COUNT(*) AS leased FROM alert_outbox WHERE status = 'pending' AND lease_until >= NOW(6)
