"""Keyword sets the statement and routine parsers share."""

from __future__ import annotations

ROUTINE_KINDS = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}

#: Statements sqlglot cannot (or need not) parse, accepted as they are. Their references are
#: not checked; everything else that fails to parse is reported.
OPAQUE_STARTS = {
    "LOCK", "UNLOCK", "LOAD", "DO", "DEALLOCATE", "SIGNAL", "RESIGNAL", "HANDLER", "XA",
    "FLUSH", "ANALYZE", "OPTIMIZE", "CHECK", "REPAIR", "CHECKSUM", "GRANT", "REVOKE", "SHOW",
    "PURGE", "RESET", "START", "STOP", "INSTALL", "UNINSTALL", "KILL", "SHUTDOWN", "BINLOG",
    "CACHE", "HELP", "SAVEPOINT", "RELEASE", "ITERATE", "LEAVE", "OPEN", "CLOSE", "FETCH",
    "GET", "EXECUTE", "PREPARE", "CALL", "RENAME", "CHANGE", "BACKUP", "DESCRIBE", "DESC",
    "EXPLAIN", "USE", "SET",
}  # fmt: skip
#: ALTER TABLE actions that change no column or index (partition maintenance, options).
OPAQUE_ALTER_ACTIONS = {
    "PARTITION", "ADD PARTITION", "DROP PARTITION", "REORGANIZE", "COALESCE", "EXCHANGE",
    "TRUNCATE", "REBUILD", "REPAIR", "OPTIMIZE", "ANALYZE", "CHECK", "REMOVE", "DISCARD",
    "IMPORT", "CONVERT", "FORCE", "ORDER", "DISABLE", "ENABLE", "ALGORITHM", "LOCK", "ENGINE",
    "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "AUTO_INCREMENT", "COMMENT", "ROW_FORMAT",
    "KEY_BLOCK_SIZE", "STATS_PERSISTENT", "STATS_AUTO_RECALC", "STATS_SAMPLE_PAGES",
    "AVG_ROW_LENGTH", "MAX_ROWS", "MIN_ROWS", "PACK_KEYS", "CHECKSUM", "COMPRESSION",
    "ENCRYPTION", "TABLESPACE", "WITH", "WITHOUT", "ADD SYSTEM", "DROP SYSTEM",
}  # fmt: skip
