-- name: alerts_lease
-- Alert delivery, claim step: stamp the claimed rows with this worker's lease, so they stay
-- its own after the claim transaction commits (no row lock held during HTTP calls).
-- param :owner VARCHAR — the worker id
-- param :lease_us BIGINT — lease length in microseconds
-- param :ids TUPLE — the claimed alert ids (bound as a parenthesised list)
UPDATE alert_outbox
SET lease_owner = :owner, lease_until = NOW(6) + INTERVAL :lease_us MICROSECOND
WHERE id IN :ids
