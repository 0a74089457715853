-- name: bench_remove_logs
-- Bench clean-up: the log rows a scenario wrote (ids above the ones it found).
-- param :max_log_id BIGINT — the newest log id before the scenario
DELETE FROM ticket_logs WHERE id > :max_log_id
