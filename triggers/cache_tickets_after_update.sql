-- Bump the cache version of every customer whose open-ticket set this update changes:
-- close/resolve/reopen (open <-> not open) and a ticket moved to another customer (both sides).
-- pending <-> processing, replies, priority changes leave the set as it is and bump nothing.
-- Two customers are bumped lowest id first, so two opposite transfers cannot deadlock.
-- Never skipped: no session switch turns a bump off (docs/operations.md, "Bulk loads").
CREATE TRIGGER cache_tickets_after_update
AFTER UPDATE ON service_tickets
FOR EACH ROW
BEGIN
    DECLARE was_open BOOLEAN DEFAULT OLD.current_status IN ('pending', 'processing');
    DECLARE is_open BOOLEAN DEFAULT NEW.current_status IN ('pending', 'processing');
    IF OLD.customer_id <> NEW.customer_id AND (was_open OR is_open) THEN
        INSERT INTO cache_customer_version (customer_id, version)
        VALUES (LEAST(OLD.customer_id, NEW.customer_id), 1),
               (GREATEST(OLD.customer_id, NEW.customer_id), 1)
        ON DUPLICATE KEY UPDATE version = version + 1;
    ELSEIF was_open <> is_open THEN
        INSERT INTO cache_customer_version (customer_id, version)
        VALUES (NEW.customer_id, 1)
        ON DUPLICATE KEY UPDATE version = version + 1;
    END IF;
END
