-- Expire every cached VIP open-ticket set at once by bumping the global epoch (row 0 of
-- cache_customer_version). For changes the per-row triggers did not see: a bulk load with
-- @ticketdb_bulk_load = 1, or one that dropped the triggers.
-- SQL SECURITY DEFINER so a loader role only needs EXECUTE on it.
CREATE PROCEDURE cache_invalidate_all()
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'bump the global cache epoch: every cached VIP set is rebuilt on next read'
BEGIN
    INSERT INTO cache_customer_version (customer_id, version)
    VALUES (0, 1)
    ON DUPLICATE KEY UPDATE version = version + 1;
END
