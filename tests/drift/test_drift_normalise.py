"""Drift's text normalisation (``ticketdb.drift.normalise``): pure functions, no server needed."""

from __future__ import annotations

from ticketdb import drift


def test_starts_at_fixed_time() -> None:
    assert drift.starts_at_fixed_time(
        "CREATE EVENT d ON SCHEDULE EVERY 1 DAY "
        "STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 3 HOUR DO 1"
    )
    assert not drift.starts_at_fixed_time("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO 1")
    assert not drift.starts_at_fixed_time(
        "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR STARTS CURRENT_TIMESTAMP + INTERVAL 1 HOUR DO 1"
    )


def test_normalise_strips_definer_counters_and_start_times() -> None:
    ev = (
        "CREATE DEFINER=`root`@`%` EVENT `e` ON SCHEDULE EVERY 1 DAY "
        "STARTS '2026-01-01 03:00:00' ON COMPLETION PRESERVE ENABLE DO CALL `db1`.p()"
    )
    assert drift.normalise_event(ev, "db1") == (
        "CREATE EVENT `e`\n    ON SCHEDULE EVERY 1 DAY\n    ON COMPLETION PRESERVE\n    ENABLE\n"
        "    DO CALL p()"
    )
    assert "STARTS '<day> 03:00:00'" in drift.normalise_event(ev, "db1", time_of_day=True)
    table = (
        "CREATE TABLE `t` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
        "  `at` datetime DEFAULT current_timestamp(),\n  KEY `b` (`id`),\n  KEY `a` (`at`),\n"
        "  PRIMARY KEY (`id`)\n) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4\n"
        "/*!50100 PARTITION BY RANGE (to_days(`at`))\n(PARTITION p202601 VALUES LESS THAN "
        "(740000) ENGINE = InnoDB,\n PARTITION p_future VALUES LESS THAN MAXVALUE "
        "ENGINE = InnoDB) */"
    )
    text, ranges = drift.normalise_table(
        table, [("p202601", "RANGE", "740000"), ("p_future", "RANGE", "MAXVALUE")]
    )
    assert "AUTO_INCREMENT=42" not in text and "int(11)" not in text
    assert text.index("PRIMARY KEY") < text.index("KEY `a`") < text.index("KEY `b`")
    assert "PARTITION BY RANGE (to_days(`at`))" in text
    assert "PARTITION `p_future` VALUES LESS THAN MAXVALUE" in text
    assert "p202601" not in text and ranges == (("p202601", "740000"),)


def test_strip_definer_and_if_not_exists() -> None:
    text = (
        "CREATE DEFINER=`root`@`127.0.0.1` TRIGGER IF NOT EXISTS t BEFORE UPDATE ON x FOR EACH ROW"
    )
    assert drift.strip_definer(text) == "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW"
    view = "CREATE ALGORITHM=UNDEFINED DEFINER=`a`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1"
    assert drift.strip_definer(view) == (
        "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1"
    )


MYSQL_LOGS = """CREATE TABLE `ticket_logs` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `action_time` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `note` varchar(500) COLLATE utf8mb4_unicode_ci DEFAULT NULL,
  PRIMARY KEY (`id`,`action_time`),
  KEY `idx_b` (`note`),
  KEY `idx_a` (`action_time`)
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
/*!50100 PARTITION BY RANGE (to_days(`action_time`))
(PARTITION p202610 VALUES LESS THAN (740286) ENGINE = InnoDB,
 PARTITION p_future VALUES LESS THAN MAXVALUE ENGINE = InnoDB) */"""
MARIADB_LOGS = """CREATE TABLE `ticket_logs` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `action_time` datetime NOT NULL DEFAULT current_timestamp(),
  `note` varchar(500) DEFAULT NULL,
  PRIMARY KEY (`id`,`action_time`),
  KEY `idx_a` (`action_time`),
  KEY `idx_b` (`note`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
 PARTITION BY RANGE (to_days(`action_time`))
(PARTITION `p202610` VALUES LESS THAN (740286) ENGINE = InnoDB,
 PARTITION `p_future` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)"""


def test_mysql_and_mariadb_show_create_normalise_alike() -> None:
    """The same table as MySQL 8 and MariaDB 10.11 print it compares equal."""
    parts = [("p202610", "RANGE", "740286"), ("p_future", "RANGE", "MAXVALUE")]
    mysql, _ = drift.normalise_table(MYSQL_LOGS, parts)
    maria, _ = drift.normalise_table(MARIADB_LOGS, parts)
    assert drift.signature(mysql) == drift.signature(maria), (mysql, maria)


def test_table_defaults_repeated_on_columns_are_dropped() -> None:
    """MySQL 8 repeats the table's charset/collation on columns; MariaDB does not."""
    opts = ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
    mysql = (
        "CREATE TABLE `t` (\n  `a` varchar(5) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci\n"
    )
    maria = "CREATE TABLE `t` (\n  `a` varchar(5)\n"
    other = "CREATE TABLE `t` (\n  `a` varchar(5) COLLATE utf8mb4_bin\n"
    assert drift.normalise_table(mysql + opts)[0] == drift.normalise_table(maria + opts)[0]
    assert "utf8mb4_bin" in drift.normalise_table(other + opts)[0]


def test_signature_ignores_layout_not_content() -> None:
    a = "CREATE PROCEDURE `p`()\nBEGIN\n  SELECT 1; -- one\nEND"
    b = "create procedure p() begin select 1; end"
    c = "CREATE PROCEDURE p() BEGIN SELECT 'a'; END"
    assert drift.signature(a) == drift.signature(b)
    assert drift.signature(b) != drift.signature(c)
    assert drift.signature("SELECT 'a'") != drift.signature("SELECT 'A'")
