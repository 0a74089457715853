-- name: vip_follower_changes
-- What the VIP cache follower (`ticketdb vip follow`) reads every poll: the server's clock (the
-- first row: the position the next poll starts from), then every version bumped since :since
-- (the previous position minus an overlap, for transactions that committed a little after
-- their bump) whose customer is VIP, is the global epoch (0), or changed tier since :swept (a
-- customer demoted since the last full sweep: the follower stops vouching for it).
-- param :since DATETIME — the previous poll's position (microseconds) minus the overlap
-- param :swept DATETIME — the last full sweep's position minus the overlap and one second
--
-- Plan: range on idx_cache_version_changed (covering), eq_ref on customers' primary key.
SELECT NULL AS customer_id, NULL AS version, NULL AS vip, NOW(6) AS read_at
UNION ALL
SELECT v.customer_id, v.version, (v.customer_id = 0 OR c.vip_tier = 'vip'), NULL
FROM cache_customer_version AS v
LEFT JOIN customers AS c ON c.id = v.customer_id
WHERE v.changed_at >= :since
  AND (v.customer_id = 0 OR c.vip_tier = 'vip' OR c.tier_updated_at >= :swept)
