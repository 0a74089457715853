-- name: bench_remove_tickets
-- Bench clean-up: the tickets a scenario created (their logs are removed first).
-- param :max_ticket_id BIGINT — the newest ticket id before the scenario
DELETE FROM service_tickets WHERE id > :max_ticket_id
