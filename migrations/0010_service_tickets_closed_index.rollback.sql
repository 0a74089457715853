ALTER TABLE service_tickets
    DROP KEY idx_closed_agent_created;
