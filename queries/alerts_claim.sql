-- name: alerts_claim
-- Alert delivery, claim step: the due alerts nobody holds a lease on, row-locked by this
-- transaction; rows another worker is claiming right now are skipped, not waited for.
-- param :batch INT — at most this many
SELECT id
FROM alert_outbox
WHERE status = 'pending' AND next_attempt_at <= NOW(6)
  AND (lease_until IS NULL OR lease_until < NOW(6))
ORDER BY next_attempt_at, id
LIMIT :batch
FOR UPDATE SKIP LOCKED
