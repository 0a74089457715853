-- name: workflow_transfer
-- Workflow.transfer: processing -> processing with a new assignee (and a new priority, which
-- restarts the SLA clock).
-- param :ticket_id BIGINT — the ticket
-- param :from_agent_id BIGINT — the current assignee
-- param :to_agent_id BIGINT — the new assignee
-- param :new_priority ENUM — urgent / high / medium / low, or NULL to keep it
CALL ticket_transfer(:ticket_id, :from_agent_id, :to_agent_id, :new_priority)
