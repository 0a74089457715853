-- name: ticket_create
-- Open a new ticket (pending, unassigned): the first step of a ticket life in the
-- workflow_throughput bench, for the procedure path and the plain-SQL baseline alike. There is
-- no create procedure: the cache trigger bumps the customer's version where triggers exist.
-- param :customer_id BIGINT — the customer raising it
-- param :title VARCHAR — subject line
-- param :priority ENUM — urgent / high / medium / low
INSERT INTO service_tickets (customer_id, title, priority)
VALUES (:customer_id, :title, :priority)
