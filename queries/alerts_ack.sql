-- name: alerts_ack
-- Alert delivery, ack step: mark one delivered alert sent, only while this worker still owns
-- its lease (0 rows: the lease was lost, another worker may deliver it again).
-- param :id BIGINT — the alert
-- param :owner VARCHAR — the worker id
UPDATE alert_outbox
SET status = 'sent', sent_at = NOW(6), attempts = attempts + 1, last_error = NULL,
    lease_owner = NULL, lease_until = NULL
WHERE id = :id AND lease_owner = :owner
