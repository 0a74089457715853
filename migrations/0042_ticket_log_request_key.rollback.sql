ALTER TABLE ticket_logs
    DROP COLUMN request_key;
