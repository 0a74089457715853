DROP TABLE ticket_logs;
