-- A new open ticket changes its customer's open-ticket set: bump the customer's cache version in
-- the inserting transaction, so the Redis copy (ticketdb/cache.py) stops being served the moment
-- the insert commits, whoever inserted. Never skipped: a session variable is no security
-- boundary, and any role that inserts tickets could set one (the app role can); a loader that
-- drops the triggers (the seed) must CALL cache_invalidate_all() afterwards (docs/operations.md).
CREATE TRIGGER cache_tickets_after_insert
AFTER INSERT ON service_tickets
FOR EACH ROW
BEGIN
    IF NEW.current_status IN ('pending', 'processing') THEN
        INSERT INTO cache_customer_version (customer_id, version)
        VALUES (NEW.customer_id, 1)
        ON DUPLICATE KEY UPDATE version = version + 1;
    END IF;
END
