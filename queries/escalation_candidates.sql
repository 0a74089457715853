-- name: escalation_candidates
-- Tickets one escalation rule applies to: pending, unassigned, of the rule's priority, created
-- before the cut-off. The same predicate escalate_stale_tickets() scans with; used by the
-- row-by-row baseline of `ticketdb bench`.
-- param :from_priority ENUM — the rule's from_priority
-- param :cutoff DATETIME — NOW() - INTERVAL unassigned_hours HOUR
--
-- Plan: range on idx_status_priority_created (current_status, priority, created_at).
SELECT id
FROM service_tickets
WHERE current_status = 'pending'
  AND priority = :from_priority
  AND created_at < :cutoff
  AND assigned_agent_id IS NULL
ORDER BY created_at
