-- depends: 0045_cache_version_changed_at
-- ticketdb_report_statements: the report queries the reporter account may run, and nothing else.
-- procedures/report_run.sql (SQL SECURITY DEFINER, the reporter's only privilege) PREPAREs the
-- row named by its caller and EXECUTEs it with the caller's values bound to its `?`s, so the
-- reporter reads reports without SELECT on any table and cannot add FOR UPDATE to them.
-- The rows are not written here: `migrate up` fills them at head from the queries/*.sql files
-- marked `-- runner: report_run` (ticketdb/migrate/reportsql.py), rewriting every row whose
-- text differs from its file and deleting those whose file is gone; `drift` compares them.
--   sql_text   the file's SQL with each :name placeholder replaced by `?`
--   params     JSON array of the parameter names the caller passes (each once, sorted)
--   positions  JSON array: the parameter each `?` binds, in the order they appear
--   checksum   SHA-256 of the file (line endings normalised) the row was loaded from
CREATE TABLE ticketdb_report_statements (
    name      VARCHAR(64)   NOT NULL,
    sql_text  MEDIUMTEXT    NOT NULL,
    params    VARCHAR(1000) NOT NULL,
    positions VARCHAR(2000) NOT NULL,
    checksum  CHAR(64)      NOT NULL,
    path      VARCHAR(255)  NOT NULL,
    loaded_at DATETIME      NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
