DROP TABLE ticketdb_leases;
