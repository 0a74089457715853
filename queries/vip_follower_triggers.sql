-- name: vip_follower_triggers
-- The triggers that bump cache_customer_version, with their creation time: the follower flushes
-- the cache when this changes (a trigger swap: writes between DROP and CREATE bumped nothing)
-- and stops vouching for the cache while one is missing.
SELECT trigger_name, event_object_table, created
FROM information_schema.triggers
WHERE trigger_schema = DATABASE()
  AND trigger_name IN ('cache_tickets_after_insert', 'cache_tickets_after_update',
                       'cache_tickets_after_delete')
ORDER BY trigger_name
