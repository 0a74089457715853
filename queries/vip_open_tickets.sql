-- name: vip_open_tickets
-- A customer's open tickets, most urgent deadline first (the VIP desk's view; the Redis cache
-- serves the same rows for VIP customers).
-- param :customer_id BIGINT — the customer
--
-- Plan: ref access on idx_customer_status (customer_id, current_status) for the two open states.
SELECT id,
       title,
       priority,
       current_status,
       deadline,
       assigned_agent_id,
       created_at
FROM service_tickets
WHERE customer_id = :customer_id
  AND current_status IN ('pending', 'processing')
ORDER BY deadline, id
