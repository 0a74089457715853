-- name: vip_bench_customers
-- VIP cache bench: the VIP customers with their open-ticket counts, the busiest first (the
-- readers' Zipf population and the size buckets are drawn from these).
-- param :limit INT — how many customers
SELECT c.id,
       (SELECT COUNT(*) FROM service_tickets AS t
        WHERE t.customer_id = c.id AND t.current_status IN ('pending', 'processing')) AS open_tickets
FROM customers AS c
WHERE c.vip_tier = 'vip'
ORDER BY c.ticket_count DESC, c.id
LIMIT :limit
