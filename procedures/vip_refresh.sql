-- Recompute customers.vip_tier: a customer with at least p_threshold tickets (all time) is 'vip'.
-- Adds customers seen in service_tickets but not yet in customers. Returns the VIP count.
-- Chunked by customer id (vip_refresh_batch_size in ticketdb_settings, default 1000): each chunk
-- is its own short transaction, so no write set outgrows Galera's wsrep_max_ws_rows (one
-- 10k-row UPDATE hit ERROR 4165 there) and a certification failure (1213) of a chunk is retried
-- up to 5 times. Idempotent: a re-run after a failure finishes the job.
-- SQL SECURITY DEFINER: an operator or the migrator runs it (`ticketdb vip refresh`); the app
-- user holds no EXECUTE on it, so it cannot promote customers.
CREATE PROCEDURE vip_refresh(IN p_threshold INT UNSIGNED)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'customers with >= p_threshold tickets become vip'
BEGIN
    DECLARE v_batch BIGINT UNSIGNED;
    DECLARE v_lo BIGINT UNSIGNED DEFAULT 0;
    DECLARE v_max BIGINT UNSIGNED;
    DECLARE v_attempt INT DEFAULT 0;
    DECLARE v_failed TINYINT DEFAULT 0;
    IF p_threshold IS NULL OR p_threshold < 1 THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'vip_refresh: threshold must be at least 1';
    END IF;
    SELECT IFNULL(MAX(CAST(value AS UNSIGNED)), 1000) INTO v_batch
    FROM ticketdb_settings WHERE name = 'vip_refresh_batch_size';
    IF v_batch < 1 THEN
        SET v_batch = 1000;
    END IF;
    SET v_max = GREATEST(IFNULL((SELECT MAX(customer_id) FROM service_tickets), 0),
                         IFNULL((SELECT MAX(id) FROM customers), 0));
    chunks: WHILE v_lo <= v_max DO
        SET v_failed = 0;
        chunk: BEGIN
            DECLARE EXIT HANDLER FOR 1213, 1205
            BEGIN
                ROLLBACK;
                SET v_failed = 1;
            END;
            START TRANSACTION;
            INSERT IGNORE INTO customers (id)
            SELECT DISTINCT customer_id FROM service_tickets
            WHERE customer_id >= v_lo AND customer_id < v_lo + v_batch;
            UPDATE customers AS c
            LEFT JOIN (
                SELECT customer_id, COUNT(*) AS n FROM service_tickets
                WHERE customer_id >= v_lo AND customer_id < v_lo + v_batch
                GROUP BY customer_id
            ) AS t ON t.customer_id = c.id
            SET c.tier_updated_at = IF((COALESCE(t.n, 0) >= p_threshold) <> (c.vip_tier = 'vip'),
                                       NOW(), c.tier_updated_at),
                c.ticket_count = COALESCE(t.n, 0),
                c.vip_tier = IF(COALESCE(t.n, 0) >= p_threshold, 'vip', 'standard')
            WHERE c.id >= v_lo AND c.id < v_lo + v_batch;
            COMMIT;
        END chunk;
        IF v_failed = 1 THEN
            CALL conflict_backoff('vip_refresh: chunk still conflicting after 5 attempts',
                                  v_attempt);
            ITERATE chunks;
        END IF;
        SET v_attempt = 0;
        SET v_lo = v_lo + v_batch;
    END WHILE chunks;
    SELECT COUNT(*) AS vip_customers FROM customers WHERE vip_tier = 'vip';
END
