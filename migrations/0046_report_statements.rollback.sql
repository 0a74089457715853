-- Undo of 0046_report_statements.sql (its rows are reloaded from queries/ by the next `up`).
DROP TABLE ticketdb_report_statements;
