-- name: plain_transfer
-- Plain-SQL baseline of `ticket_transfer`: only the current assignee of a processing ticket may
-- hand it over; a priority change restarts the SLA clock (sla_started_at before priority, as in
-- the trigger, because SET reads left to right).
-- param :ticket_id BIGINT — the ticket
-- param :from_agent_id BIGINT — the current assignee
-- param :to_agent_id BIGINT — the new assignee
-- param :new_priority ENUM — the new priority, or NULL to keep it
UPDATE service_tickets
SET sla_started_at = IF(:new_priority IS NOT NULL AND :new_priority <> priority, NOW(),
                        sla_started_at),
    priority = IFNULL(:new_priority, priority),
    assigned_agent_id = :to_agent_id
WHERE id = :ticket_id AND current_status = 'processing' AND assigned_agent_id = :from_agent_id
