-- Recompute customers.vip_tier: a customer with at least p_threshold tickets (all time) is 'vip'.
-- Adds customers seen in service_tickets but not yet in customers. Returns the VIP count.
-- SQL SECURITY DEFINER: an operator or the migrator runs it (`ticketdb vip refresh`); the app
-- user holds no EXECUTE on it, so it cannot promote customers.
CREATE PROCEDURE vip_refresh(IN p_threshold INT UNSIGNED)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'customers with >= p_threshold tickets become vip'
BEGIN
    IF p_threshold IS NULL OR p_threshold < 1 THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'vip_refresh: threshold must be at least 1';
    END IF;
    INSERT IGNORE INTO customers (id)
    SELECT DISTINCT customer_id FROM service_tickets;
    -- ticketdb: allow TDB007 every customer's tier is recomputed, by design
    UPDATE customers AS c
    LEFT JOIN (
        SELECT customer_id, COUNT(*) AS n FROM service_tickets GROUP BY customer_id
    ) AS t ON t.customer_id = c.id
    SET c.tier_updated_at = IF((COALESCE(t.n, 0) >= p_threshold) <> (c.vip_tier = 'vip'),
                               NOW(), c.tier_updated_at),
        c.ticket_count = COALESCE(t.n, 0),
        c.vip_tier = IF(COALESCE(t.n, 0) >= p_threshold, 'vip', 'standard');
    SELECT COUNT(*) AS vip_customers FROM customers WHERE vip_tier = 'vip';
END
