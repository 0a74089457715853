-- name: bench_remove_urgent
-- Bench clean-up: rows of the daily urgent list for tickets a scenario created.
-- param :max_ticket_id BIGINT — the newest ticket id before the scenario
DELETE FROM daily_urgent_tickets WHERE ticket_id > :max_ticket_id
