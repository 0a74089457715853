-- name: alerts_release
-- Alert delivery: give back leased alerts this worker will not deliver now (lease nearly
-- spent, or stopping), so another worker may take them at once.
-- param :owner VARCHAR — the worker id
-- param :ids TUPLE — the alert ids (bound as a parenthesised list)
UPDATE alert_outbox
SET lease_owner = NULL, lease_until = NULL
WHERE lease_owner = :owner AND id IN :ids
