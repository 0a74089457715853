-- name: bench_remove_alerts
-- Bench clean-up: alerts the events queued for tickets a scenario created.
-- param :max_ticket_id BIGINT — the newest ticket id before the scenario
DELETE FROM alert_outbox WHERE ticket_id > :max_ticket_id
