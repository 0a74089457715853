-- ticketdb_app: the application and the alerts worker. No DDL, no DELETE anywhere, no direct
-- writes to ticket_logs or ticket state: every workflow step goes through a SQL SECURITY DEFINER
-- procedure, so the state machine (log triggers) cannot be bypassed with this account.
-- Grants on a table or routine that does not exist yet are skipped and reported by
-- `ticketdb grants apply` (run it after `migrate up`).
-- Placeholders: {{schema}} (quoted schema), {{account}} ('user'@'host'), {{password}}.
CREATE USER IF NOT EXISTS {{account}} IDENTIFIED BY {{password}};
ALTER USER {{account}} IDENTIFIED BY {{password}};
-- new tickets are plain INSERTs of these three columns only: status, assignee, closed_at and
-- the timestamps take their defaults, so a ticket is born pending, unassigned, open, with its
-- SLA clock starting now (a forged INSERT naming another column is ERROR 1143). No UPDATE:
-- every later change goes through the procedures below.
GRANT SELECT ON {{schema}}.service_tickets TO {{account}};
GRANT INSERT (customer_id, title, priority) ON {{schema}}.service_tickets TO {{account}};
GRANT SELECT ON {{schema}}.ticket_logs TO {{account}};
-- the workflow procedures (ticket_log_action is internal: called by these with the definer's rights)
GRANT EXECUTE ON PROCEDURE {{schema}}.ticket_assign TO {{account}};
GRANT EXECUTE ON PROCEDURE {{schema}}.ticket_reply TO {{account}};
GRANT EXECUTE ON PROCEDURE {{schema}}.ticket_transfer TO {{account}};
GRANT EXECUTE ON PROCEDURE {{schema}}.ticket_resolve TO {{account}};
GRANT EXECUTE ON PROCEDURE {{schema}}.ticket_reopen TO {{account}};
GRANT EXECUTE ON PROCEDURE {{schema}}.ticket_close TO {{account}};
-- the agents' urgent list
GRANT SELECT ON {{schema}}.daily_urgent_tickets TO {{account}};
-- VIP cache reads (ticketdb.cache): tier + version, then the open tickets
GRANT SELECT ON {{schema}}.customers TO {{account}};
GRANT SELECT ON {{schema}}.cache_customer_version TO {{account}};
-- the alerts worker (`ticketdb alerts run`): claim, lease, mark sent
GRANT SELECT, UPDATE ON {{schema}}.alert_outbox TO {{account}};
