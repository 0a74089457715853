-- name: plain_log
-- Plain-SQL baseline: the history row every workflow action writes, inserted by the client in
-- the same transaction as its ticket UPDATE (what the procedures' log insert + triggers do).
-- param :ticket_id BIGINT — the ticket
-- param :agent_id BIGINT — who acted
-- param :action ENUM — assign / reply / transfer / resolve / close
-- param :to_agent_id BIGINT — transfer target, else NULL
-- param :new_priority ENUM — transfer's new priority, else NULL
-- param :note VARCHAR — free text, may be NULL
INSERT INTO ticket_logs (ticket_id, agent_id, action_type, to_agent_id, new_priority, note)
VALUES (:ticket_id, :agent_id, :action, :to_agent_id, :new_priority, :note)
