-- Deleting an open ticket (rare: tickets with logs cannot be deleted) shrinks the customer's
-- open-ticket set; bump the cache version like the insert/update triggers do.
CREATE TRIGGER cache_tickets_after_delete
AFTER DELETE ON service_tickets
FOR EACH ROW
BEGIN
    IF OLD.current_status IN ('pending', 'processing') THEN
        INSERT INTO cache_customer_version (customer_id, version)
        VALUES (OLD.customer_id, 1)
        ON DUPLICATE KEY UPDATE version = version + 1;
    END IF;
END
