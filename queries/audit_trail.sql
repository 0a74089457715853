-- name: audit_trail
-- One ticket's history, in order, with its milestones (assigned, first reply, closed) marked and
-- the minutes elapsed since the ticket was created.
-- param :ticket_id BIGINT — the ticket
-- runner: report_run
--
-- Partition pruning: the action_time bounds are uncorrelated scalar subqueries on the ticket's
-- primary key, which the optimizer evaluates before pruning, so only the months between
-- created_at and closed_at (or now) are opened (EXPLAIN PARTITIONS lists just those, plus the
-- table's first partition, which MariaDB/MySQL always add for RANGE on TO_DAYS(): an invalid
-- date becomes NULL and would be stored there). A join condition `l.action_time >=
-- t.created_at` would not prune: every month would be probed.
-- Order: ticket_seq (the ticket's own log number, set by the trigger; migration 0041) is the real
-- history order, also across Galera nodes, where ids interleave and action_time ties within a
-- second. Rows from before 0041 have ticket_seq NULL and sort first (they are older).
SELECT l.id AS log_id,
       l.action_time,
       l.action_type,
       l.agent_id,
       l.to_agent_id,
       l.new_priority,
       CASE
           WHEN l.action_type = 'assign' AND ROW_NUMBER() OVER w = 1 THEN 'assigned'
           WHEN l.action_type = 'reply' AND ROW_NUMBER() OVER w = 1 THEN 'first reply'
           WHEN l.action_type = 'close' THEN 'closed'
       END AS milestone,
       TIMESTAMPDIFF(MINUTE, t.created_at, l.action_time) AS minutes_since_created,
       l.ticket_seq
FROM ticket_logs AS l
JOIN service_tickets AS t ON t.id = l.ticket_id
WHERE l.ticket_id = :ticket_id
  AND l.action_time >= (SELECT created_at FROM service_tickets WHERE id = :ticket_id)
  AND l.action_time <= (SELECT IFNULL(closed_at, NOW()) FROM service_tickets WHERE id = :ticket_id)
WINDOW w AS (PARTITION BY l.action_type ORDER BY l.ticket_seq, l.action_time, l.id)
ORDER BY l.ticket_seq, l.action_time, l.id
