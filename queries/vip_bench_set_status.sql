-- name: vip_bench_set_status
-- VIP cache bench: a DBA's UPDATE by hand (no procedure, no log row), one of the write paths the
-- cache must see; also how the bench puts flipped tickets back.
-- param :id BIGINT — the ticket
-- param :status ENUM — its new status
UPDATE service_tickets SET current_status = :status WHERE id = :id
