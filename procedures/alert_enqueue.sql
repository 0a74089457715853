-- Queue one alert per open ticket whose deadline falls in the next p_window_minutes.
-- Idempotent: UNIQUE (ticket_id, deadline) turns a re-run into a no-op, so overlapping runs of
-- the event never duplicate an alert. An alert 'cleared' because its ticket was resolved comes
-- back to 'pending' when the ticket is open again with the same deadline (reopened).
-- `priority IN (all four)` lets MariaDB (no skip-scan) range-scan
-- idx_priority_deadline_status instead of scanning the whole index (docs/schema.md).
-- SQL SECURITY DEFINER: run by the event; nobody but the migrator needs EXECUTE.
CREATE PROCEDURE alert_enqueue(IN p_window_minutes INT UNSIGNED)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'queue deadline alerts for open tickets due within p_window_minutes'
BEGIN
    INSERT INTO alert_outbox (ticket_id, deadline, customer_id, priority)
    SELECT t.id, t.deadline, t.customer_id, t.priority
    FROM service_tickets AS t
    WHERE t.priority IN ('urgent', 'high', 'medium', 'low')
      AND t.deadline BETWEEN NOW() AND NOW() + INTERVAL p_window_minutes MINUTE
      AND t.current_status IN ('pending', 'processing')
    ON DUPLICATE KEY UPDATE
        attempts = IF(status = 'cleared', 0, attempts),
        next_attempt_at = IF(status = 'cleared', NOW(6), next_attempt_at),
        last_error = IF(status = 'cleared', NULL, last_error),
        status = IF(status = 'cleared', 'pending', status);
END
