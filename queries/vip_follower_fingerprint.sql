-- name: vip_follower_fingerprint
-- What the VIP cache follower (`ticketdb vip follow`) reads every poll: one row per bucket of
-- VIP customers (id MOD :buckets) with their count, the sum of their open-set versions and a
-- checksum of (id, version), plus bucket -1 = the global epoch (customer 0). Versions only grow,
-- so any bump makes its bucket's sum grow: the follower then fetches that bucket's versions
-- (vip_follower_versions.sql) and publishes them. Re-read whole on every poll rather than
-- "rows changed since a position": the triggers bump versions in commit order, which no column
-- records (a timestamp or AUTO_INCREMENT is taken before commit, and Galera interleaves
-- AUTO_INCREMENT across nodes), so a position could skip a transaction that committed late; a
-- fingerprint of the whole VIP set from one snapshot cannot (docs/operations.md).
-- param :buckets INT — how many buckets (the follower's choice, e.g. 64)
--
-- Plan: ref on idx_customers_tier, eq_ref on cache_customer_version's primary key.
SELECT -1 AS bucket,
       0 AS customers,
       COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = 0), 0) AS versions,
       0 AS checksum
UNION ALL
SELECT c.id MOD :buckets,
       COUNT(*),
       SUM(COALESCE(v.version, 0)),
       BIT_XOR(CRC32(CONCAT(c.id, ':', COALESCE(v.version, 0))))
FROM customers AS c
LEFT JOIN cache_customer_version AS v ON v.customer_id = c.id
WHERE c.vip_tier = 'vip'
GROUP BY c.id MOD :buckets
