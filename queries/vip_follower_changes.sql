-- name: vip_follower_changes
-- What the VIP cache follower (`ticketdb vip follow`) reads every poll, as ONE row: the server's
-- clock (the position the next poll starts from), how many versions were bumped since :since,
-- and those versions as one string "customer:version;..." (customer 0 = the global epoch).
-- :since is the previous position minus a short overlap on most polls, and the last recheck's
-- position minus the long overlap every recheck interval (app/follower.py says why).
-- Every customer is listed, VIP or not: the follower keeps the ones it publishes (VIP tiers
-- come from the full sweep, vip_follower_fingerprint.sql). No join to customers: the join
-- cost 2/3 of the server's work per row, and one row + one column instead of a row per
-- version spares the client most of its parsing. The follower's session raises
-- group_concat_max_len; a list cut short anyway (fewer items than `changed`, or a last item
-- without its ';') makes it read every VIP's version instead.
-- param :since DATETIME — where this poll's window starts (microseconds)
--
-- Plan: range on idx_cache_version_changed (covering: changed_at, version, customer_id).
SELECT NOW(6) AS read_at,
       COUNT(*) AS changed,
       GROUP_CONCAT(customer_id, ':', version, ';' SEPARATOR '') AS versions
FROM cache_customer_version
WHERE changed_at >= :since
