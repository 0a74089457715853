-- name: escalation_reset_logs
-- Escalation bench reset: delete the 'escalate' logs written since the snapshot (run with the
-- bulk-load switch on, so the log triggers stay quiet).
-- param :max_log_id BIGINT — the newest log id of the snapshot
DELETE FROM ticket_logs WHERE id > :max_log_id
