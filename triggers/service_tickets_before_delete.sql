-- The other half of the missing FOREIGN KEY: a ticket that has logs cannot be deleted (its
-- history would be orphaned). Always enforced, bulk load or not. The probe is a locking read so
-- that it sees a log inserted (and committed) by a concurrent transaction after our snapshot.
-- Tickets whose logs were dropped by partition retention can be deleted.
CREATE TRIGGER service_tickets_before_delete
BEFORE DELETE ON service_tickets
FOR EACH ROW
BEGIN
    DECLARE v_log BIGINT UNSIGNED DEFAULT NULL;
    DECLARE v_msg VARCHAR(128) DEFAULT NULL;
    SELECT id INTO v_log FROM ticket_logs WHERE ticket_id = OLD.id LIMIT 1 LOCK IN SHARE MODE;
    IF v_log IS NOT NULL THEN
        SET v_msg = CONCAT('ticket ', OLD.id, ': delete rejected: ticket has logs');
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_msg;
    END IF;
END
