-- name: alerts_nack
-- Alert delivery, failure: count the attempt, keep the error, schedule the retry after the
-- back-off (or mark it failed for good after the last attempt), and give the lease back.
-- param :max_attempts INT — attempts before 'failed'
-- param :error VARCHAR — what went wrong (first 500 characters)
-- param :delay_us BIGINT — back-off before the next attempt, in microseconds
-- param :id BIGINT — the alert
-- param :owner VARCHAR — the worker id
UPDATE alert_outbox
SET status = IF(attempts + 1 >= :max_attempts, 'failed', status),
    attempts = attempts + 1, last_error = :error,
    next_attempt_at = NOW(6) + INTERVAL :delay_us MICROSECOND,
    lease_owner = NULL, lease_until = NULL
WHERE id = :id AND lease_owner = :owner
