-- name: escalation_reset_tickets
-- Escalation bench reset: put priority, SLA clock and updated_at of the escalated tickets back
-- as the snapshot has them.
UPDATE service_tickets AS t
JOIN bench_escalation_snapshot AS s ON s.id = t.id
SET t.priority = s.priority, t.sla_started_at = s.sla_started_at, t.updated_at = s.updated_at
WHERE NOT (t.priority <=> s.priority AND t.sla_started_at <=> s.sla_started_at)
