DROP TABLE service_tickets;
