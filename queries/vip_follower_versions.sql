-- name: vip_follower_versions
-- What the VIP cache follower (`ticketdb vip follow`) publishes each poll: the global epoch
-- (customer 0) and every VIP customer's open-set version (0 = no row yet), from one consistent
-- read. Re-read whole on every poll rather than "rows changed since a position": the triggers
-- bump versions in commit order that no column records, so a position could skip a transaction
-- that committed late; the whole VIP set cannot (docs/operations.md).
--
-- Plan: ref on idx_customers_tier, eq_ref on cache_customer_version's primary key.
SELECT 0 AS customer_id,
       COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = 0), 0) AS version
UNION ALL
SELECT c.id, COALESCE(v.version, 0)
FROM customers AS c
LEFT JOIN cache_customer_version AS v ON v.customer_id = c.id
WHERE c.vip_tier = 'vip'
