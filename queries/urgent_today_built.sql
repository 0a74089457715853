-- name: urgent_today_built
-- When the nightly urgent list (daily_urgent_tickets) was last built; NULL when never.
-- runner: report_run
--
-- Plan: full read of the small precomputed table (one row per urgent ticket).
SELECT MAX(built_at) AS built_at
FROM daily_urgent_tickets
