-- name: escalation_snapshot_drop
-- Escalation bench: drop the snapshot of escalation_snapshot.sql (before taking a new one, and
-- at cleanup).
DROP TEMPORARY TABLE IF EXISTS bench_escalation_snapshot
