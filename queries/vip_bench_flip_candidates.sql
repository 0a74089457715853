-- name: vip_bench_flip_candidates
-- VIP cache bench's staleness probe: tickets of a customer it may resolve or reopen.
-- param :customer_id BIGINT — the probed VIP customer
SELECT id, current_status
FROM service_tickets
WHERE customer_id = :customer_id
  AND current_status IN ('pending', 'processing', 'resolved')
ORDER BY id
LIMIT 20
