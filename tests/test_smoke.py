"""The fixtures themselves: a live server, a fresh database per test."""

from ticketdb.db import connect, flavor


def test_server_answers_with_strict_mode(server_dsn):
    conn = connect(server_dsn, database=False)
    with conn.cursor() as cur:
        cur.execute("SELECT @@SESSION.sql_mode")
        assert "STRICT_ALL_TABLES" in cur.fetchone()[0]
    assert flavor(conn).name in ("mariadb", "mysql")
    conn.close()


def test_migrated_database_has_both_tables(conn):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
            "AND table_name IN ('service_tickets', 'ticket_logs') ORDER BY table_name"
        )
        assert [r[0] for r in cur.fetchall()] == ["service_tickets", "ticket_logs"]
