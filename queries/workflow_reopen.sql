-- name: workflow_reopen
-- Workflow.reopen: resolved -> processing (closed is final).
-- param :ticket_id BIGINT — the ticket
-- param :agent_id BIGINT — the reopening agent
-- param :note VARCHAR — why (NULL allowed)
CALL ticket_reopen(:ticket_id, :agent_id, :note)
