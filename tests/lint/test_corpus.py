"""Real-world SQL the linter has never seen: no false errors, and injected bugs are found.

tests/lint/corpus/ holds schemas, a routine library, a mysqldump in its own order, a client
upgrade script (BOM, CRLF, ``source``, ``\\G``) and a vendored ``procedures/`` folder. Each file
is first proven valid by loading it with the ``mariadb`` command-line client into the session's
sandbox server; then the whole corpus, linted as one run, must give no error finding. The
mutation tests inject one bug of each kind into a valid file and expect the finding on the
injected line.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from lint_helpers import make_project

from ticketdb.db import connect, quote_ident
from ticketdb.dsn import DSN
from ticketdb.lint.engine import lint
from ticketdb.project import Project

CORPUS = Path(__file__).parent / "corpus"
THIRDPARTY = Path(__file__).parent / "thirdparty"
#: file -> database it is loaded into (the upgrade script and the warehouse share one, and
#: the warehouse's foreign keys point into a reference database)
LOAD_ORDER = [
    ("shop_dump.sql", "shop"),
    ("routines_lib.sql", "lib"),
    ("warehouse_schema.sql", "corpus_wh"),
    ("upgrade.sql", "corpus_wh"),
    ("vendor/procedures/reporting.sql", "vendor"),
    ("sys_style_lib.sql", "corpus_sys"),
]


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*.sql"))


def _client() -> str:
    exe = shutil.which("mariadb") or shutil.which("mysql")
    if exe is None:
        pytest.fail("no mariadb/mysql client on PATH (scripts/system-deps.sh installs it)")
    return exe


@pytest.fixture
def corpus_databases(server_dsn: DSN) -> Iterator[dict[str, str]]:
    """One fresh database per logical name, plus the reference database the FKs point to.
    The corpus files name ``corpus_wh``/``corpus_ref`` themselves (USE, REFERENCES), so those
    two get fixed names and are dropped first."""
    suffix = uuid.uuid4().hex[:8]
    names = {"shop": f"c_shop_{suffix}", "lib": f"c_lib_{suffix}", "vendor": f"c_vendor_{suffix}",
             "corpus_wh": "corpus_wh", "corpus_ref": "corpus_ref",
             "corpus_sys": "corpus_sys"}  # fmt: skip
    conn = connect(server_dsn, database=False)
    try:
        with conn.cursor() as cur:
            for name in names.values():
                cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
                cur.execute(f"CREATE DATABASE {quote_ident(name)}")
            cur.execute(
                "CREATE TABLE corpus_ref.country (code CHAR(2) NOT NULL PRIMARY KEY, "
                "name VARCHAR(60) NOT NULL)"
            )
        yield names
    finally:
        with conn.cursor() as cur:
            for name in names.values():
                cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        conn.close()


def _load(dsn: DSN, database: str, path: Path) -> subprocess.CompletedProcess[str]:
    args = [_client(), f"--host={dsn.host}", f"--port={dsn.port}", f"--user={dsn.user}",
            "--batch", database]  # fmt: skip
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "MYSQL_PWD": dsn.password}
    with path.open("rb") as f:
        return subprocess.run(
            args, stdin=f, capture_output=True, text=True, cwd=path.parent, env=env, timeout=120
        )


def test_corpus_is_valid_sql_and_lints_without_errors(
    server_dsn: DSN,
    corpus_databases: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded = set()
    for rel, db in LOAD_ORDER:
        proc = _load(server_dsn, corpus_databases[db], CORPUS / rel)
        assert proc.returncode == 0, f"{rel} does not load: {proc.stderr}"
        loaded.add(rel)
    # the files the upgrade script sources are loaded through it
    assert {p.relative_to(CORPUS).as_posix() for p in corpus_files()} - loaded == {
        "upgrade_part2.sql",
        "upgrade_part3.sql",
    }
    conn = connect(server_dsn.with_database("corpus_wh"))
    try:
        with conn.cursor() as cur:  # the DELIMITER chunk with DROP; CREATE made the trigger
            cur.execute("INSERT INTO wh_note (body, kind) VALUES ('x', 'MIXED')")
            cur.execute("SELECT kind FROM wh_note_kind ORDER BY kind")
            assert [r[0] for r in cur.fetchall()] == ["general", "mixed"]
            # the routines run too: their tables bind at run time (temporary, PREPAREd, later)
            lib, shop = quote_ident(corpus_databases["lib"]), quote_ident(corpus_databases["shop"])
            cur.execute(f"CALL {lib}.lib_snapshot_sizes()")
            cur.execute(f"CALL {lib}.lib_make_scratch(3)")
            cur.execute(f"SELECT COUNT(*) FROM {lib}.lib_messages")
            assert cur.fetchone()[0] == 1
            cur.execute("SET SESSION foreign_key_checks = 0")  # orders <-> order_item cycle
            cur.execute(f"CALL {shop}.place_order(1, @order_id)")
            cur.execute(f"INSERT INTO {shop}.order_item VALUES (@order_id, 1, 'sku-1', 2, 5.00)")
            cur.execute(f"SELECT total FROM {shop}.orders WHERE order_id = @order_id")
            assert float(cur.fetchone()[0]) == 10.0  # order_item_ai, dumped before orders
            cur.execute(
                "INSERT INTO corpus_sys.task_tree (id, parent_id, title, payload, weight) VALUES "
                "(1, NULL, 'root', '{\"tags\": [\"a\"]}', 90), (2, 1, 'child', NULL, 99)"
            )
            cur.execute("CALL corpus_sys.task_subtree_weights(1)")
            assert len(cur.fetchall()) == 2
            cur.execute("CALL corpus_sys.task_rebalance(40, @changed)")
            cur.execute("CALL corpus_sys.sys_table_rows('task_tree')")
            assert cur.fetchone()[0] == 2
    finally:
        conn.close()

    monkeypatch.chdir(tmp_path)
    project = Project(tmp_path)
    (tmp_path / "migrations").mkdir()
    result = lint(project, [CORPUS, *sorted(THIRDPARTY.glob("*.sql"))])
    errors = [f.text() for f in result.findings if f.severity == "error"]
    assert errors == []
    assert len(result.files) == len(corpus_files()) + len(list(THIRDPARTY.glob("*.sql")))
    # source and \. are followed (the parts are linted inside upgrade.sql's run), not skipped
    assert [f.text() for f in result.findings if f.code in ("TDB021", "TDB032")] == []


# -- mutations --------------------------------------------------------------------------------
#: (file, text to replace, replacement, expected code[, anchor]): the finding must be on the
#: line where the replacement differs (or, given an anchor, on the line of the anchor in the
#: mutated file). One entry per bug kind of issue 11 and of the rules' own docs.
MUTATIONS = [
    ("shop_dump.sql", "INSERT INTO customer_audit (", "INSERT INTO customer_audt (", "TDB001"),
    ("shop_dump.sql", "SET version = version + 1", "SET versoin = version + 1", "TDB002"),
    (
        "shop_dump.sql",
        "WHERE order_id = NEW.order_id;\n  INSERT",
        "WHERE order_id = OLD.order_id;\n  INSERT",
        "TDB018",
    ),
    (
        "shop_dump.sql",
        "  UPDATE orders SET total = total + NEW.qty * NEW.price WHERE order_id = NEW.order_id;",
        "  SET NEW.qty = NEW.qty + 0;",
        "TDB018",
    ),
    (
        "shop_dump.sql",
        "  UPDATE orders SET total = total + NEW.qty * NEW.price WHERE order_id = NEW.order_id;",
        "  SELECT price INTO NEW.price FROM order_item LIMIT 1;",
        "TDB018",
    ),
    (
        "shop_dump.sql",
        "UPDATE customer SET version = version + 1 WHERE customer_id = p_customer;",
        "UPDATE customer SET version = version + 1;",
        "TDB007",
    ),
    (
        "shop_dump.sql",
        "SELECT concat(`user`, ' <', email, '> v', version) INTO v FROM customer",
        "SELECT * FROM customer",
        "TDB008",
    ),
    (
        "shop_dump.sql",
        "GENERATED ALWAYS AS (substring_index(`email`,'@',-1)) VIRTUAL",
        "GENERATED ALWAYS AS (concat(`email`, now())) VIRTUAL",
        "TDB006",
    ),
    (
        "shop_dump.sql",
        "CREATE DEFINER=CURRENT_USER PROCEDURE `place_order`",
        "CREATE DEFINER=`root`@`localhost` PROCEDURE `place_order`",
        "TDB009",
    ),
    (
        "shop_dump.sql",
        "TRIGGER `orders_bi` BEFORE INSERT ON `orders`",
        "TRIGGER `orders_bi` BEFORE INSERT ON `orderz`",
        "TDB001",
    ),
    (
        "shop_dump.sql",
        "FOREIGN KEY (`customer_id`) REFERENCES `customer` (`customer_id`)\n) ENGINE",
        "FOREIGN KEY (`customer_id`) REFERENCES `customers` (`customer_id`)\n) ENGINE",
        "TDB001",
    ),
    (
        "shop_dump.sql",
        "concat('/* ',`c`.`user`,' */') AS `label`",
        "concat('/* ',`c`.`usr`,' */') AS `label`",
        "TDB002",
    ),
    ("routines_lib.sql", "    CALL lib_log(CONCAT(", "    CALL lib_logg(CONCAT(", "TDB019"),
    (
        "routines_lib.sql",
        "    CALL lib_purge_history(p_days);",
        "    CALL lib_purge_history(p_days, 1);",
        "TDB019",
    ),
    (
        "routines_lib.sql",
        "        SELECT table_name, total_bytes, NOW() FROM tmp_sizes;",
        "        SELECT table_name, total_byte, NOW() FROM tmp_sizes;",
        "TDB002",
    ),
    (
        "routines_lib.sql",
        "    DELETE FROM lib_scratch WHERE id < p_days;",
        "    DELETE FROM lib_scrach WHERE id < p_days;",
        "TDB001",
    ),
    (
        "routines_lib.sql",
        "DROP PROCEDURE IF EXISTS lib_purge_history $$\n",
        "DROP PROCEDURE IF EXISTS lib_purge_history $$\nCALL lib_purge_history(1) $$\n",
        "TDB019",
    ),
    (
        "routines_lib.sql",
        "CREATE PROCEDURE lib_log(",
        "CREATE OR REPLACE PROCEDURE lib_log(",
        "TDB010",
    ),
    (
        "routines_lib.sql",
        "    msg VARCHAR(255) NOT NULL,",
        "    msg VARCHAR(255) NOT NULL,\n    KEY idx_msg (msg), KEY idx_msg2 (msg),",
        "TDB013",
        "KEY idx_msg2",
    ),
    (
        "warehouse_schema.sql",
        "    KEY idx_item_time (item_id, moved_at)\n",
        "    KEY idx_item_time (item_id, moved_at),\n"
        "    CONSTRAINT fk_move_item FOREIGN KEY (item_id) REFERENCES wh_item (item_id)\n",
        "TDB004",
        "CONSTRAINT fk_move_item",
    ),
    (
        "warehouse_schema.sql",
        "    PRIMARY KEY (move_id, moved_at),",
        "    PRIMARY KEY (move_id),",
        "TDB005",
    ),
    (
        "warehouse_schema.sql",
        "    SELECT i.item_id, i.sku, s.name AS site, i.weight",
        "    SELECT i.item_id, i.skus, s.name AS site, i.weight",
        "TDB002",
    ),
    ("warehouse_schema.sql", "    PRIMARY KEY (site_id),\n", "", "TDB003", "CREATE TABLE wh_site"),
    (
        "upgrade.sql",
        "SELECT kind, COUNT(*) FROM wh_note GROUP BY kind;",
        "SELECT knd, COUNT(*) FROM wh_note GROUP BY kind;",
        "TDB002",
    ),
    (
        "upgrade.sql",
        "    SET NEW.kind = LOWER(NEW.kind);",
        "    SET NEW.kind = LOWER(NEW.knd);",
        "TDB002",
    ),
]

MUTATIONS += [
    ("sys_style_lib.sql", "FROM corpus_sys.sys_config WHERE variable = in_variable",
     "FROM corpus_sys.sys_confg WHERE variable = in_variable", "TDB001"),
    ("sys_style_lib.sql", "SELECT t.id, s.depth + 1 FROM task_tree",
     "SELECT t.id, s.dpth + 1 FROM task_tree", "TDB002"),
    ("sys_style_lib.sql", "UPDATE task_tree SET weight = in_max WHERE id = v_id;",
     "UPDATE task_tree SET weight = in_max;", "TDB007"),
    ("sys_style_lib.sql", "JSON_TABLE(t.payload,", "JSON_TABLE(t.paylod,", "TDB002"),
]  # fmt: skip

#: migrations on top of the warehouse schema (as migration 0001): (sql of 0002, code, line)
MIGRATION_MUTATIONS = [
    ("ALTER TABLE wh_move_history DROP PARTITION p2024;", "TDB012"),
    ("ALTER TABLE wh_move_history TRUNCATE PARTITION p2024;", "TDB012"),
    ("ALTER TABLE wh_item DROP COLUMN weight;", "TDB012"),
    (
        "ALTER TABLE wh_item PARTITION BY RANGE (site_id) "
        "(PARTITION p0 VALUES LESS THAN MAXVALUE);",
        "TDB005",
    ),
    (
        "ALTER TABLE wh_item ADD COLUMN origin VARCHAR(20) NOT NULL, ALGORITHM=INSTANT, LOCK=NONE;",
        "TDB022",
    ),
    (
        "ALTER TABLE wh_item MODIFY item_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, "
        "ALGORITHM=COPY;",
        "TDB023",
    ),
    ("ALTER TABLE wh_site ENGINE=InnoDB;", "TDB024"),
    ("ALTER TABLE wh_item ADD KEY idx_sku (sku);", "TDB024"),
    (
        "ALTER TABLE wh_item RENAME COLUMN sku TO stock_code, ALGORITHM=INSTANT, LOCK=NONE;",
        "TDB025",
    ),
    ("RENAME TABLE wh_site TO wh_location;", "TDB025"),
    ("ALTER TABLE wh_item ADD UNIQUE KEY uq_sku (sku), ALGORITHM=INPLACE, LOCK=NONE;", "TDB026"),
    (
        "CREATE INDEX idx_a ON wh_item (sku) ALGORITHM=INPLACE LOCK=NONE;\n"
        "UPDATE wh_item SET sku = UPPER(sku) WHERE item_id > 0;",
        "TDB027",
    ),
    ("ALTER TABLE wh_item ADD KEY idx_sku (sku), ALGORITHM=INPLACE, LOCK=NONE;", "TDB028"),
    (
        "SET SESSION lock_wait_timeout = 5;\n"
        "ALTER TABLE wh_item ADD KEY a (sku), ALGORITHM=INPLACE, LOCK=NONE;\n"
        "ALTER TABLE wh_item ADD KEY b (weight), ALGORITHM=INPLACE, LOCK=NONE;",
        "TDB029",
    ),
    ("DROP DATABASE corpus_wh;", "TDB031"),
]


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    "mutation", MUTATIONS, ids=[f"{m[3]}-{i}" for i, m in enumerate(MUTATIONS)]
)
def test_injected_bug_is_found_at_its_line(
    mutation: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel, old, new, code = mutation[:4]
    source = (CORPUS / rel).read_bytes().decode("utf-8")
    crlf = "\r\n" in source
    text = source.replace("\r\n", "\n")
    assert text.count(old) >= 1, f"mutation anchor not in {rel}: {old!r}"
    mutated = text.replace(old, new, 1)
    # the line where the new text differs from the old one
    at = text.index(old) + next(
        (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
        min(len(old), len(new)),
    )
    line = text[:at].count("\n") + 1
    if len(mutation) > 4:
        line = _line_of(mutated, mutation[4])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    target = tmp_path / Path(rel).name
    target.write_bytes((mutated.replace("\n", "\r\n") if crlf else mutated).encode("utf-8"))
    if rel == "upgrade.sql":  # the sourced files define tables the script uses
        for part in ("upgrade_part2.sql", "upgrade_part3.sql"):
            shutil.copy(CORPUS / part, tmp_path / part)
    if rel == "upgrade.sql":
        shutil.copy(CORPUS / "warehouse_schema.sql", tmp_path / "warehouse_schema.sql")
    result = lint(Project(tmp_path), sorted(tmp_path.glob("*.sql")))
    hits = [f for f in result.findings if f.code == code and f.path == target.name]
    assert [f.line for f in hits if f.line == line] != [], (
        f"{code} expected on line {line}; got {[f.text() for f in result.findings]}"
    )


@pytest.mark.parametrize(
    ("sql", "code"),
    MIGRATION_MUTATIONS,
    ids=[f"{m[1]}-{i}" for i, m in enumerate(MIGRATION_MUTATIONS)],
)
def test_injected_migration_bug_is_found_at_its_line(
    sql: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    warehouse = (CORPUS / "warehouse_schema.sql").read_text().replace("USE corpus_wh;\n", "")
    project = make_project(tmp_path, {
        "migrations/0002_warehouse.sql": warehouse,
        "migrations/0002_warehouse.rollback.sql": "SELECT 1;\n",
        "migrations/0003_change.sql": sql + "\n",
        "migrations/0003_change.rollback.sql": "SELECT 1;\n",
    })  # fmt: skip
    result = lint(project, [tmp_path / "migrations" / "0003_change.sql"])
    lines = sql.splitlines()
    expected = len(lines) if code in ("TDB027", "TDB029") else 1
    if code == "TDB028":
        expected = 1
    hits = [(f.code, f.line) for f in result.findings if f.code == code]
    assert (code, expected) in hits, [f.text() for f in result.findings]
