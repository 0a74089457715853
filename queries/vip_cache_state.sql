-- name: vip_cache_state
-- The committed state of one customer, for the VIP cache's strict check (no fresh follower):
-- its tier, the global epoch (row 0) and its open-set version. Primary-key lookups only.
-- param :customer_id BIGINT — the customer
SELECT (SELECT vip_tier FROM customers WHERE id = :customer_id) AS vip_tier,
       COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = 0), 0) AS epoch,
       COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = :customer_id),
                0) AS version
