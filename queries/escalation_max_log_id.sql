-- name: escalation_max_log_id
-- Escalation bench: the newest log id before the scenario; each reset deletes the logs after it.
SELECT IFNULL(MAX(id), 0) AS max_log_id FROM ticket_logs
