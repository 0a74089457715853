ALTER TABLE ticket_logs
    DROP COLUMN ticket_seq;
ALTER TABLE service_tickets
    DROP COLUMN log_seq;
