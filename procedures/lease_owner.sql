-- lease_owner(): who "I" am for ticketdb_leases — node (host, port, server_id) and connection,
-- so two sessions on one node exclude each other like GET_LOCK did, and two nodes too.
CREATE FUNCTION lease_owner()
RETURNS VARCHAR(190)
NOT DETERMINISTIC
NO SQL
SQL SECURITY INVOKER
COMMENT 'this session''s identity in ticketdb_leases'
RETURN CONCAT_WS(':', @@hostname, @@port, @@server_id, CONNECTION_ID())
