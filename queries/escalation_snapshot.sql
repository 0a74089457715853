-- name: escalation_snapshot
-- Escalation bench: the pending, unassigned tickets (every rule's candidates) as they are
-- before the scenario, in a session temporary table, so each reset can put them back.
CREATE TEMPORARY TABLE bench_escalation_snapshot (PRIMARY KEY (id)) ENGINE=InnoDB
SELECT id, priority, sla_started_at, updated_at
FROM service_tickets
WHERE current_status = 'pending' AND assigned_agent_id IS NULL
