-- Nightly rebuild of daily_urgent_tickets at 02:00 server time
-- (procedures/rebuild_daily_urgent_tickets.sql: shadow table + atomic RENAME TABLE swap).
CREATE EVENT rebuild_daily_urgent_tickets_nightly
ON SCHEDULE EVERY 1 DAY STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 2 HOUR
ON COMPLETION PRESERVE
ENABLE
COMMENT 'nightly 02:00: CALL rebuild_daily_urgent_tickets'
DO CALL rebuild_daily_urgent_tickets(@ticketdb_urgent_rows)
