DROP TABLE daily_urgent_tickets;
