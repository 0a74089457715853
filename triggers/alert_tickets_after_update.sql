-- A pending deadline alert is obsolete once its ticket is handled (resolved/closed) or its
-- deadline moved (escalation, transfer with a new priority): mark it 'cleared' in the same
-- transaction, so a worker that claims afterwards never pushes it. A moved deadline gets its own
-- alert from the next alert_enqueue run (UNIQUE (ticket_id, deadline)). Not skipped under
-- @ticketdb_bulk_load: a historical load must not leave alerts for closed tickets.
CREATE TRIGGER alert_tickets_after_update
AFTER UPDATE ON service_tickets
FOR EACH ROW
BEGIN
    IF NEW.current_status IN ('resolved', 'closed') OR NOT (OLD.deadline <=> NEW.deadline) THEN
        UPDATE alert_outbox
        SET status = 'cleared', lease_owner = NULL, lease_until = NULL
        WHERE ticket_id = NEW.id
          AND status = 'pending'
          AND (NEW.current_status IN ('resolved', 'closed') OR deadline <> NEW.deadline);
    END IF;
END
