-- name: vip_follower_versions
-- The open-set version (0 = no row yet) of every VIP customer in the given buckets: what the
-- VIP cache follower publishes for the buckets whose fingerprint changed
-- (vip_follower_fingerprint.sql).
-- param :buckets INT — the bucket count the fingerprint used
-- param :changed TUPLE — the bucket numbers to read, e.g. (3, 17)
SELECT c.id, COALESCE(v.version, 0) AS version
FROM customers AS c
LEFT JOIN cache_customer_version AS v ON v.customer_id = c.id
WHERE c.vip_tier = 'vip'
  AND (c.id MOD :buckets) IN :changed
