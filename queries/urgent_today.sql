-- name: urgent_today
-- Today's urgent list: the nightly daily_urgent_tickets snapshot, with each ticket's live state.
-- param :as_of DATETIME — "now" for minutes_left (the CLI passes the server's NOW())
-- param :include_handled INT — 1 keeps tickets resolved/closed since the list was built, 0 drops them
-- param :agent_id BIGINT — only tickets assigned (now) to this agent; NULL for all
-- runner: report_run
--
-- Plan: full read of the small precomputed table (rebuilt nightly by
-- rebuild_daily_urgent_tickets, swapped in atomically), one primary-key lookup per row into
-- service_tickets for the live status/agent/deadline (a ticket can be handled, transferred or
-- escalated after the nightly build). Overdue first, then by deadline.
SELECT d.ticket_id,
       d.customer_id,
       COALESCE(t.priority, d.priority)                   AS priority,
       COALESCE(t.current_status, d.current_status)       AS current_status,
       COALESCE(t.assigned_agent_id, d.assigned_agent_id) AS assigned_agent_id,
       COALESCE(t.deadline, d.deadline)                   AS deadline,
       TIMESTAMPDIFF(MINUTE, :as_of, COALESCE(t.deadline, d.deadline)) AS minutes_left,
       COALESCE(t.deadline, d.deadline) < :as_of          AS overdue,
       d.built_at
FROM daily_urgent_tickets AS d
LEFT JOIN service_tickets AS t ON t.id = d.ticket_id
WHERE (:include_handled = 1 OR t.current_status IN ('pending', 'processing'))
  AND (:agent_id IS NULL OR t.assigned_agent_id = :agent_id)
ORDER BY overdue DESC, deadline, d.ticket_id
