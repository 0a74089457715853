-- name: agent_monthly_stats
-- Tickets handled per agent per month: tickets closed in the month by the agent they were
-- assigned to at close time, and the average hours from creation to close.
-- param :from DATETIME — first instant counted (inclusive, normally the 1st of a month)
-- param :to DATETIME — end of the period (exclusive)
-- runner: report_run
--
-- Reads service_tickets only: closed_at and assigned_agent_id are set by the workflow triggers
-- from the close log, so no join with the 4M-row ticket_logs is needed. Plan: range scan of the
-- covering idx_closed_agent_created (closed_at, assigned_agent_id, created_at) from migration
-- 0010 ("Using index"); the GROUP BY sorts one row per (agent, month).
SELECT DATE_FORMAT(closed_at, '%Y-%m') AS month,
       assigned_agent_id AS agent_id,
       COUNT(*) AS tickets_closed,
       ROUND(AVG(TIMESTAMPDIFF(SECOND, created_at, closed_at)) / 3600, 2) AS avg_hours_to_close
FROM service_tickets
WHERE closed_at >= :from
  AND closed_at < :to
GROUP BY month, agent_id
ORDER BY month, tickets_closed DESC, agent_id
