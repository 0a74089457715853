-- ticketdb_migrator: owns the schema. Runs `ticketdb migrate up` (yoyo creates/drops its own
-- tables), creates procedures/triggers/events, maintains partitions (ALTER … REORGANIZE).
-- Everything on this one schema, nothing global, no GRANT OPTION.
-- Routines created by this user have it as DEFINER, so SQL SECURITY DEFINER procedures run with
-- these rights while callers hold only EXECUTE.
-- On MySQL with binary logging, creating triggers needs log_bin_trust_function_creators=1
-- (or SUPER); see docs/operations.md.
-- Placeholders: {{schema}} (quoted schema), {{account}} ('user'@'host'), {{password}}.
CREATE USER IF NOT EXISTS {{account}} IDENTIFIED BY {{password}};
ALTER USER {{account}} IDENTIFIED BY {{password}};
GRANT ALL PRIVILEGES ON {{schema}}.* TO {{account}};
