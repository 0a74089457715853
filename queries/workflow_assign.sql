-- name: workflow_assign
-- Workflow.assign: pending/processing -> processing, the agent becomes the assignee (one
-- transaction in the procedure; the Python side only retries it).
-- param :ticket_id BIGINT — the ticket
-- param :agent_id BIGINT — the new assignee
CALL ticket_assign(:ticket_id, :agent_id)
