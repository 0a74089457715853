-- name: bench_writer_state
-- Bench scenarios that write tickets: the highest ids before they start (what they delete
-- afterwards) and how many customers and agents to draw from.
SELECT
    (SELECT IFNULL(MAX(id), 0) FROM service_tickets) AS max_ticket_id,
    (SELECT IFNULL(MAX(id), 0) FROM ticket_logs) AS max_log_id,
    (SELECT IFNULL(MAX(id), 0) FROM customers) AS max_customer_id,
    (SELECT IFNULL(MAX(assigned_agent_id), 0) FROM service_tickets) AS max_agent_id
