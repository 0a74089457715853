-- name: vip_cache_load
-- A VIP cache miss: tier, epoch, version and open ticket ids in ONE statement (one read view),
-- so the version the set is tagged with is the version it was read at. Rows by kind:
-- 3 = is VIP (1/0), 0 = global epoch, 1 = the customer's version, 2 = one open ticket id.
-- param :customer_id BIGINT — the customer
SELECT 3 AS kind,
       CASE WHEN (SELECT vip_tier FROM customers WHERE id = :customer_id) = 'vip'
            THEN 1 ELSE 0 END AS value
UNION ALL
SELECT 0, COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = 0), 0)
UNION ALL
SELECT 1, COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = :customer_id), 0)
UNION ALL
SELECT 2, id
FROM service_tickets
WHERE customer_id = :customer_id
  AND current_status IN ('pending', 'processing')
