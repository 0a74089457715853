-- name: escalation_rules
-- The enabled escalation rules in the order escalate_stale_tickets() applies them; read by the
-- row-by-row escalation baseline of `ticketdb bench` (docs/bench.md).
SELECT rule_id, from_priority, to_priority, unassigned_hours
FROM escalation_rules
WHERE enabled = 1
ORDER BY rule_id
