-- ticketdb_reporter: reports and dashboards, ideally on a replica. EXECUTE on report_run and
-- nothing else: no SELECT on any table (so no `SELECT … FOR UPDATE` / `LOCK IN SHARE MODE`,
-- which MariaDB allows with SELECT alone, and which stalled the workflow: issue 20), no writes.
-- The procedure (SQL SECURITY DEFINER) runs the report statements `migrate up` loads from
-- queries/ in a read-only consistent-read transaction of its own (procedures/report_run.sql).
-- It cannot read ticketdb_lock_salt either, so it cannot compute ticketdb's GET_LOCK names.
-- Placeholders: {{schema}} (quoted schema), {{account}} ('user'@'host'), {{password}}.
CREATE USER IF NOT EXISTS {{account}} IDENTIFIED BY {{password}};
ALTER USER {{account}} IDENTIFIED BY {{password}};
-- the schema-wide SELECT this account had before issue 20, taken back without --reset
-- (`grants apply` skips this REVOKE when there is nothing to revoke)
REVOKE SELECT ON {{schema}}.* FROM {{account}};
GRANT EXECUTE ON PROCEDURE {{schema}}.report_run TO {{account}};
