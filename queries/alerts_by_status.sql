-- name: alerts_by_status
-- Alerts per status (pending / sent / cleared / failed), for `ticketdb alerts status`.
SELECT status, COUNT(*) AS alerts FROM alert_outbox GROUP BY status
