ALTER TABLE ticket_logs
    DROP COLUMN new_priority,
    DROP COLUMN to_agent_id;
