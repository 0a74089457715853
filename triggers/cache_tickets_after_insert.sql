-- A new open ticket changes its customer's open-ticket set: bump the customer's cache version in
-- the inserting transaction, so the Redis copy (ticketdb/cache.py) stops being served the moment
-- the insert commits, whoever inserted. Skipped under @ticketdb_bulk_load = 1 like the workflow
-- triggers; a bulk loader must CALL cache_invalidate_all() afterwards (docs/operations.md).
CREATE TRIGGER cache_tickets_after_insert
AFTER INSERT ON service_tickets
FOR EACH ROW
BEGIN
    IF NOT (@ticketdb_bulk_load <=> 1) AND NEW.current_status IN ('pending', 'processing') THEN
        INSERT INTO cache_customer_version (customer_id, version)
        VALUES (NEW.customer_id, 1)
        ON DUPLICATE KEY UPDATE version = version + 1;
    END IF;
END
