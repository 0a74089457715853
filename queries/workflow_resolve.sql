-- name: workflow_resolve
-- Workflow.resolve: processing -> resolved.
-- param :ticket_id BIGINT — the ticket
-- param :agent_id BIGINT — the resolving agent
-- param :note VARCHAR — resolution note (NULL allowed)
CALL ticket_resolve(:ticket_id, :agent_id, :note)
