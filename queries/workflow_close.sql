-- name: workflow_close
-- Workflow.close: pending/processing/resolved -> closed (final).
-- param :ticket_id BIGINT — the ticket
-- param :agent_id BIGINT — the closing agent
CALL ticket_close(:ticket_id, :agent_id)
