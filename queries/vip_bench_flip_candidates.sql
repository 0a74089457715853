-- name: vip_bench_flip_candidates
-- VIP cache bench's staleness probe: tickets of a customer it may resolve or reopen.
-- Only tickets that existed before the write phase: the ticket lives write their own new tickets,
-- and one of those flipped here could be moved on by its life before the cache showed the flip.
-- param :customer_id BIGINT — the probed VIP customer
-- param :max_id BIGINT — the highest ticket id before the write phase
SELECT id, current_status
FROM service_tickets
WHERE customer_id = :customer_id
  AND id <= :max_id
  AND current_status IN ('pending', 'processing', 'resolved')
ORDER BY id
LIMIT 20
