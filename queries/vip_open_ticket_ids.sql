-- name: vip_open_ticket_ids
-- A customer's open ticket ids: the uncached path of the VIP cache (non-VIP customers, Redis
-- down) and the bench's database baseline.
-- param :customer_id BIGINT — the customer
--
-- Plan: covering range read of idx_customer_status (customer_id, current_status).
SELECT id
FROM service_tickets
WHERE customer_id = :customer_id
  AND current_status IN ('pending', 'processing')
ORDER BY id
