-- name: timeout_warning
-- The supervisor alert list: open tickets whose deadline falls within the next window.
-- param :as_of DATETIME — "now" (the CLI passes the server's NOW(); bench the data set's anchor)
-- param :window_minutes INT — how far ahead to look
-- runner: report_run
--
-- Plan: range scan of idx_priority_deadline_status (priority, deadline, current_status).
-- `priority IN (<every value>)` is deliberate: MariaDB has no skip-scan, so without an equality
-- on the leading column the deadline range cannot be used and the whole index is read (~100x
-- slower at 1M tickets, docs/bench.md). current_status is then filtered inside the index.
SELECT id,
       priority,
       current_status,
       deadline,
       TIMESTAMPDIFF(MINUTE, :as_of, deadline) AS minutes_left,
       assigned_agent_id,
       customer_id
FROM service_tickets
WHERE priority IN ('urgent', 'high', 'medium', 'low')
  AND deadline >= :as_of
  AND deadline < :as_of + INTERVAL :window_minutes MINUTE
  AND current_status IN ('pending', 'processing')
ORDER BY deadline, id
