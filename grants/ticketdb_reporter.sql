-- ticketdb_reporter: reports and dashboards, ideally on a replica. SELECT on the schema, nothing
-- else: no writes, no EXECUTE (a DEFINER procedure would run with the migrator's rights).
-- Placeholders: {{schema}} (quoted schema), {{account}} ('user'@'host'), {{password}}.
CREATE USER IF NOT EXISTS {{account}} IDENTIFIED BY {{password}};
ALTER USER {{account}} IDENTIFIED BY {{password}};
GRANT SELECT ON {{schema}}.* TO {{account}};
