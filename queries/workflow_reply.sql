-- name: workflow_reply
-- Workflow.reply: a reply logged while pending/processing; the ticket itself does not change.
-- param :ticket_id BIGINT — the ticket
-- param :agent_id BIGINT — the replying agent
-- param :note VARCHAR — the reply text (NULL allowed)
CALL ticket_reply(:ticket_id, :agent_id, :note)
