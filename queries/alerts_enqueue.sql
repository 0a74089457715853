-- name: alerts_enqueue
-- Queue deadline alerts now (what alert_enqueue_event does every minute).
-- param :window_minutes INT — alert tickets due within this many minutes
CALL alert_enqueue(:window_minutes)
