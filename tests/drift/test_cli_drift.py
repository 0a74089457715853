"""`ticketdb drift --ignore PATTERN` from the CLI: ignored objects leave the comparison (and the
exit code) but are still listed as info; other differences are still reported."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ticketdb.cli import cli
from ticketdb.db import connect, quote_ident
from ticketdb.dsn import DSN


def drift(dsn: DSN, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["drift", "--dsn", dsn.url(), *args])
    return res.exit_code, res.stdout


def test_ignore_patterns_from_the_cli(migrated_dsn: DSN) -> None:
    conn = connect(migrated_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT trigger_name FROM information_schema.triggers "
                "WHERE trigger_schema = DATABASE() ORDER BY trigger_name LIMIT 1"
            )
            (trigger,) = cur.fetchone()
            cur.execute(f"DROP TRIGGER {quote_ident(trigger)}")
            cur.execute("CREATE TABLE drift_hand_made (id INT PRIMARY KEY)")
    finally:
        conn.close()

    def found(doc: dict) -> dict[tuple[str, str], str]:
        return {(d["kind"], d["name"]): d["state"] for d in doc["differences"]}

    def ignored(doc: dict) -> set[tuple[str, str]]:
        return {(i["kind"], i["name"]) for i in doc["info"] if i["message"] == "ignored (--ignore)"}

    code, out = drift(migrated_dsn, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["clean"] is False
    assert found(doc) == {("table", "drift_hand_made"): "extra", ("trigger", trigger): "missing"}
    assert ignored(doc) == set()

    code, out = drift(migrated_dsn, "--json", "--ignore", "drift_hand_*")
    doc = json.loads(out)
    assert code == 1 and found(doc) == {("trigger", trigger): "missing"}
    assert ignored(doc) == {("table", "drift_hand_made")}

    # repeatable; a pattern that matches nothing changes nothing
    code, out = drift(migrated_dsn, "--json", "--ignore", "drift_hand_*", "--ignore", trigger,
                      "--ignore", "no_such_object_*")  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["clean"] is True and found(doc) == {}
    assert ignored(doc) == {("table", "drift_hand_made"), ("trigger", trigger)}

    code, out = drift(migrated_dsn, "--ignore", "drift_hand_*", "--ignore", trigger)
    assert code == 0
    assert "info: table drift_hand_made: ignored (--ignore)" in out
    assert f"info: trigger {trigger}: ignored (--ignore)" in out and "no drift" in out
