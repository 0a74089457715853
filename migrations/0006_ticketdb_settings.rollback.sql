DELETE FROM ticketdb_settings;
DROP TABLE ticketdb_settings;
