-- name: frequent_transfers
-- Tickets passed around the most: transfers per ticket in a period, with the ticket's category
-- (the part of the title before ':'), priority and current state.
-- param :from DATETIME — start of the period (inclusive)
-- param :to DATETIME — end of the period (exclusive)
-- param :limit INT — how many tickets
-- runner: report_run
--
-- Plan: partition pruning on action_time opens only the period's months; inside them the
-- transfers (~3 % of log rows) are found by scanning. An index (action_type, action_time,
-- ticket_id) would make this a range scan, but measured at 1M tickets it saves ~50 ms a month
-- for 4M more index entries on the hottest insert path, so it was not added (docs/bench.md).
SELECT l.ticket_id,
       COUNT(*) AS transfers,
       SUBSTRING_INDEX(t.title, ':', 1) AS category,
       t.priority,
       t.current_status,
       t.assigned_agent_id
FROM ticket_logs AS l
JOIN service_tickets AS t ON t.id = l.ticket_id
WHERE l.action_type = 'transfer'
  AND l.action_time >= :from
  AND l.action_time < :to
GROUP BY l.ticket_id, t.title, t.priority, t.current_status, t.assigned_agent_id
ORDER BY transfers DESC, l.ticket_id
LIMIT :limit
