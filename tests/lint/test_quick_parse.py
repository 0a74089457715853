"""The quick parser (ticketdb/lint/parse/quick.py) against sqlglot itself: for every statement it
either gives up (None) or builds sqlglot's tree exactly: the same classes, the same args in the
same order, the same ``meta`` start/end and comments on the same nodes. Proven on hand-written
statements and near misses, on every unit the linter parses in the repository's SQL, in the
SQL snippets of the test suite and in the benchmark's routine library, and on a few thousand
generated statements. Run with ``-s`` for coverage counts and the speed-up."""

from __future__ import annotations

import ast
import importlib.util
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.errors import SqlglotError

import ticketdb.lint.parse.quick as quick_module
import ticketdb.lint.parse.unit as unit_module
from ticketdb import PROJECT_ROOT
from ticketdb.lint.parse.files import load
from ticketdb.lint.parse.quick import quick_parse
from ticketdb.sqlscript import SplitError, Token, tokenize

_MYSQL = MySQL()
CORPUS_DIRS = (
    "migrations", "procedures", "triggers", "events", "queries",
    "tests/lint/corpus", "tests/lint/thirdparty", "tests/lint/fixtures",
)  # fmt: skip


def tokens_of(sql: str) -> list[Token]:
    return [t for t in tokenize(sql, whitespace=False) if t.kind != "comment"]


def reference(sql: str) -> exp.Expression | None:
    """sqlglot's tree, as the linter asks for it (None: an error or not one statement)."""
    try:
        trees = _MYSQL.parse(sql)
    except (SqlglotError, RecursionError):
        return None
    except (AttributeError, TypeError):
        # sqlglot's own crash on a builder that returns None (DATE_ADD(x)); its compiled
        # build (sqlglotc) fails there with a TypeError instead
        return None
    return trees[0] if len(trees) == 1 else None


def _meta(node: exp.Expression) -> dict[str, Any]:
    meta = node._meta or {}
    return {k: meta[k] for k in ("start", "end") if meta.get(k) is not None}


def difference(ours: Any, theirs: Any, path: str = "tree") -> str | None:
    """Where two trees differ, stricter than ``==`` (which ignores case, None vs False, meta)."""
    if type(ours) is not type(theirs):
        return f"{path}: {type(ours).__name__} != {type(theirs).__name__}"
    if isinstance(ours, exp.Expression):
        if _meta(ours) != _meta(theirs):
            return f"{path}: meta {_meta(ours)} != {_meta(theirs)}"
        if ours.comments != theirs.comments:
            return f"{path}: comments {ours.comments!r} != {theirs.comments!r}"
        if list(ours.args) != list(theirs.args):
            return f"{path}: args {list(ours.args)} != {list(theirs.args)}"
        for key, value in ours.args.items():
            found = difference(value, theirs.args[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(ours, list):
        if len(ours) != len(theirs):
            return f"{path}: {len(ours)} items != {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            found = difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if ours == theirs else f"{path}: {ours!r} != {theirs!r}"


@pytest.fixture(autouse=True)
def _raising(monkeypatch: pytest.MonkeyPatch) -> None:
    """quick_parse swallows exceptions (its callers must not see them): here they show."""
    monkeypatch.setattr(quick_module, "_RAISE", True)


def check(sql: str, tokens: list[Token] | None = None, base: int = 0) -> bool:
    """quick_parse gives up or builds sqlglot's tree; True when it built one."""
    try:
        tree = quick_parse(sql, tokens_of(sql) if tokens is None else tokens, base)
    except Exception as exc:  # only where sqlglot fails too (a builder's error, say)
        assert reference(sql) is None, f"{sql!r}: {exc!r}"
        return False
    if tree is None:
        return False
    theirs = reference(sql)
    assert theirs is not None, f"a tree where sqlglot fails: {sql!r}"
    found = difference(tree, theirs)
    assert found is None, f"{sql!r}: {found}"
    assert tree == theirs
    # parents, positions in lists: what walk(), find() and replace() rely on
    for ours, ref in zip(tree.walk(), theirs.walk(), strict=True):
        assert (ours.arg_key, ours.index) == (ref.arg_key, ref.index), sql
    return True


# -- 1. hand-written statements ---------------------------------------------------------------
#: (statement, expectation): True = the fast path must build it, False = it must give up
#: (deliberately unsupported), None = either (then it must be sqlglot's tree)
STATEMENTS: list[tuple[str, bool | None]] = [
    # the benchmark's routine statements (INTO blanked as the linter does)
    ("SELECT order_id FROM orders WHERE customer_id = p_customer", True),
    ("SELECT v_sum + total            FROM orders WHERE order_id = v_id", True),
    ("UPDATE orders SET status = 'paid' WHERE order_id = v_id AND status = 'new'", True),
    ("INSERT INTO order_audit (order_id, note)\n VALUES (v_id, CONCAT('sum ', v_sum))", True),
    ("DELETE FROM order_audit WHERE order_id = v_id AND at < NOW() - INTERVAL 30 DAY", True),
    (
        "SELECT SUM(o.total)              \n FROM orders AS o JOIN customer AS cu ON cu.customer_id"
        " = o.customer_id\n WHERE cu.customer_id = p_customer AND o.placed_at > NOW() - INTERVAL"
        " 1 YEAR",
        True,
    ),
    ("SELECT NEW.total < 0", True),
    ("SET NEW.note = CONCAT(COALESCE(OLD.note, ''), ' #1')", True),
    # SELECT and its clauses
    ("SELECT DISTINCT a, b AS c, d e FROM t GROUP BY a, b HAVING COUNT(*) > 1", True),
    ("SELECT a FROM t ORDER BY a, b DESC, c ASC LIMIT 1, 2", True),
    ("SELECT a FROM t LIMIT 5 OFFSET 2", True),
    ("SELECT a FROM t FOR UPDATE", True),
    ("SELECT a FROM t WHERE x = 1 LOCK IN SHARE MODE", True),
    ("SELECT a FROM t WHERE x = 1 FOR SHARE", True),
    ("SELECT COUNT(*), t.*, * FROM t", True),
    ("SELECT `t`.`a`, `b` FROM `db`.`t` AS `x`", True),
    ("SELECT a FROM db.t", True),
    (
        "SELECT a FROM t1, t2 LEFT JOIN t3 ON t3.a = t2.a RIGHT OUTER JOIN t4 USING (a, b)"
        " CROSS JOIN t5 INNER JOIN t6 x ON 1 LEFT OUTER JOIN t7 AS y ON y.a = x.a",
        True,
    ),
    ("SELECT a FROM t JOIN u", True),
    ("SELECT a FROM t x WHERE x.a > 0 GROUP BY a ORDER BY a LIMIT 10", True),
    ("SELECT 1", True),
    # UPDATE, DELETE, INSERT, SET
    ("UPDATE t SET a = 1, t.b = b + 1 WHERE c IS NULL ORDER BY d LIMIT 2", True),
    ("UPDATE t AS x SET x.a = DEFAULT", False),
    ("UPDATE a JOIN b ON a.id = b.id SET a.x = b.y WHERE b.z = 1", True),
    ("UPDATE a, b SET a.x = b.y WHERE a.id = b.id", True),
    ("UPDATE t SET a = 1 LIMIT 1, 2", True),
    ("DELETE FROM t WHERE a = 1 ORDER BY b LIMIT 1", True),
    ("DELETE FROM t", True),
    ("DELETE t FROM t JOIN u ON u.id = t.id", False),
    ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL)", True),
    ("INSERT INTO t VALUES (1)", True),
    ("INSERT INTO t (a) SELECT a FROM u WHERE b", True),
    ("INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = a + 1, b = 2", True),
    ("INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a)", False),
    ("INSERT INTO t SET a = 1", False),
    ("SET v_sum = v_sum - 1", True),
    ("SET @x = 1, v = t.col, w = a", True),
    ("SET NEW.status = 'x', OLD.y = NULL", True),
    ("SET v = (SELECT MAX(a) FROM t WHERE b = 1)", True),
    ("SET NAMES utf8mb4", False),
    ("SET SESSION x = 1", False),
    # precedence and associativity
    ("SELECT NOT a = b", True),
    ("SELECT NOT a = b AND c", True),
    ("SELECT a = b = c", True),
    ("SELECT a OR b AND c OR d", True),
    ("SELECT a AND b OR c AND d", True),
    ("SELECT a - b - c, a / b / c, a - b * c + d", True),
    ("SELECT a && b, a || b", True),
    ("SELECT x IS NOT NULL AND y IN (1, 'a')", True),
    ("SELECT x IS NULL = 1, a = b IS NULL, x IS TRUE, x IS NOT FALSE", True),
    ("SELECT a BETWEEN 1 AND 2 AND c", True),
    ("SELECT a NOT BETWEEN b - 1 AND b + 1", True),
    ("SELECT a NOT LIKE 'x%' AND b NOT IN (1) AND c LIKE d", True),
    ("SELECT a <> b, a != b, a <= b, a >= b, a < b, a > b, a <=> b", True),
    ("SELECT a<=b, a< =b, a<>b, a< >b", None),
    ("SELECT a DIV 2, a MOD 3, a % 4, a / 5, MOD(a, 2)", True),
    ("SELECT -1, a - -1, - - a, +a, -(a + b)", True),
    ("SELECT a--1", None),
    ("SELECT (a + b) * c, ((a)), (a = b) = c", True),
    ("SELECT NOT (a <=> b) AND c IN ('x', 'y')", True),
    # literals
    ("SELECT 1.5, 0, 007, 10.25, 'it''s', \"dq\", '', 'a \"q\" b', NULL, TRUE, FALSE", True),
    ("SELECT 'a\\'b'", False),
    ("SELECT 'a\\nb'", False),
    ("SELECT .5", False),
    ("SELECT 1e3", False),
    ("SELECT 0x1F", False),
    ("SELECT X'1F', N'x', _utf8mb4'x'", False),
    ("SELECT 'a' 'b'", False),
    # names sqlglot reads as plain identifiers, and keywords it does not
    ("SELECT user, status, count, value, name, type, level, `key` FROM t", True),
    ("SELECT at, position, action, data, state FROM t", True),
    ("SELECT date FROM t", False),
    ("SELECT a FROM t WHERE key = 1", False),
    ("SELECT comment FROM t", False),
    ("SELECT `date`, `select` FROM `from`", True),
    ("SELECT a AS `b c`, a AS 'b'", False),
    ("SELECT a FROM t AS desc", False),
    # functions: known builders, unknown names, no-paren ones
    ("SELECT CONCAT(a, b), COALESCE(a, b, c), IFNULL(a, 0), NULLIF(a, 1), NOW()", True),
    ("SELECT UUID(), DATE(a), YEAR(a), CHAR(65)", False),
    ("SELECT LEFT(a, 2), RIGHT(a, 1), LENGTH(a), LOWER(a), UPPER(TRIM(a))", False),
    ("SELECT LEFT(a, 2), RIGHT(a, 1), LENGTH(a), LOWER(a), UPPER(a)", True),
    ("SELECT my_func(a, 1), other.f(a)", False),
    ("SELECT my_func(a, 1), f(), f(g(h(1)))", True),
    ("SELECT CURRENT_TIMESTAMP, CURRENT_DATE(), CURRENT_USER", True),
    ("SELECT GREATEST(a, 1), LEAST(b, 2), ROUND(a, 2), ABS(-a), FLOOR(a), CEIL(a / 2)", True),
    ("SELECT IF(a > 1, 'x', NULL), if(b, 1, 2)", True),
    ("SELECT DATE_ADD(a, INTERVAL v_days DAY), a + INTERVAL -1 DAY, NOW() - INTERVAL 1 HOUR", True),
    ("SELECT INTERVAL '1' DAY + a", False),
    ("SELECT TIMESTAMPDIFF(SECOND, a, b), DATEDIFF(a, b), DATE_FORMAT(a, '%Y')", True),
    ("SELECT COUNT(DISTINCT a)", False),
    ("SELECT SUM(a) OVER (PARTITION BY b)", False),
    ("SELECT GROUP_CONCAT(a ORDER BY b)", False),
    ("SELECT CAST(a AS SIGNED), CONVERT(a, CHAR)", False),
    ("SELECT SUBSTRING(a, 1, 2)", False),
    ("SELECT CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END, CASE a WHEN 1 THEN 'x' END", True),
    ("SELECT f(a AS b)", False),
    # subqueries, parameters, placeholders
    ("SELECT a FROM t WHERE b IN (SELECT c FROM u) AND EXISTS (SELECT 1 FROM v)", True),
    ("SELECT IFNULL((SELECT MAX(a) FROM t), 0)", True),
    ("SELECT a FROM t WHERE b = ? AND c IN (?, ?) LIMIT ?", True),
    ("SELECT @a, @a + 1", True),
    ("SELECT @@version", False),
    ("SELECT @v := 1", False),
    # comments, hints, several statements
    ("SELECT a -- a comment\nFROM t", False),
    ("SELECT /*+ BKA(t) */ a FROM t", False),
    ("SELECT a FROM t; SELECT b FROM u", False),
    ("SELECT ';' AS a, '--' AS b, '/*' AS c, '#' AS d", True),
    # what sqlglot rejects or reads otherwise
    ("SELECT a FROM t UNION SELECT b FROM u", False),
    ("SELECT a FROM t WHERE", False),
    ("SELECT a, FROM t", False),
    ("SELECT a b c FROM t", False),
    ("SELECT a FROM t WHERE a = 1 = ", False),
    ("UPDATE t SET a = 1 WHERE b = 2 WHERE c = 3", None),  # the last WHERE wins
    ("SELECT ((SELECT 1)), (SELECT 1) + 1, a IN ((SELECT 1)), a NOT IN ((SELECT 1) + 1)", True),
    ("SELECT a << 2, a & b, a | b, a ^ b, ~a", False),
    ("SELECT a COLLATE utf8mb4_bin", False),
    ("SELECT a FROM t WHERE a SOUNDS LIKE 'x' OR a REGEXP 'y'", False),
    ("SELECT a FROM t WHERE a LIKE 'x' ESCAPE '!'", False),
    ("SELECT a FROM t WHERE a IS DISTINCT FROM b", False),
    ("WITH c AS (SELECT 1) SELECT * FROM c", False),
    ("CREATE TABLE t (a INT)", False),
]


@pytest.mark.parametrize(("sql", "expected"), STATEMENTS)
def test_statement(sql: str, expected: bool | None) -> None:
    built = check(sql)
    if expected is not None:
        assert built is expected, f"{sql!r}: the fast path {'gave up' if expected else 'built'}"


def test_tokens_with_an_offset_and_a_prefix() -> None:
    """The linter hands over file offsets (``base`` = the file offset of sql[0]) and, for an
    expression, a ``SELECT `` of its own before the condition's tokens."""
    file_text = "IF NEW.total < 0 THEN"
    cond = [t for t in tokens_of(file_text) if t.text not in ("IF", "THEN")]
    base = cond[0].offset - len("SELECT ")
    tokens = [Token("word", "SELECT", base, 1, 1), *cond]
    assert check("SELECT " + "NEW.total < 0", tokens, base)
    shifted = [t._replace(offset=t.offset + 1000) for t in tokens_of("UPDATE t SET a = 1")]
    assert check("UPDATE t SET a = 1", shifted, 1000)


def test_never_raises() -> None:
    for sql in (
        "",
        " ",
        "SELECT",
        "SELECT (",
        "SELECT a FROM",
        "SET",
        "INSERT INTO t (a",
        "UPDATE",
        "SELECT CASE",
        "SELECT a IN (",
        "SELECT 1.",
        "SELECT f(,)",
    ):
        check(sql)
    assert quick_parse("SELECT a", [Token("word", "SELECT", 0, 1, 1)], 0) is None  # too few
    assert quick_parse("SELECT a", [Token("ws", " ", 6, 1, 7)], 0) is None


# -- 2. every unit the linter parses ----------------------------------------------------------
class _Recorder:
    """Stands for the linter's sqlglot dialect: keeps what it is asked to parse."""

    def __init__(self, dialect: Any, seen: list[str]) -> None:
        self.dialect = dialect
        self.seen = seen

    def parse(self, sql: str, **opts: Any) -> Any:
        self.seen.append(sql)
        return self.dialect.parse(sql, **opts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dialect, name)


def linter_units(
    monkeypatch: pytest.MonkeyPatch, paths: list[Path], texts: list[str] | None = None
) -> tuple[list[str], list[tuple[str, list[Token], int]]]:
    """What the linter hands to sqlglot for ``paths`` (every unit: the fast path, if the linter
    uses it already, is held back), and what it hands to quick_parse. ``texts``: SQL to load
    as if it were the files' (one per path)."""
    seen: list[str] = []
    calls: list[tuple[str, list[Token], int]] = []

    def held_back(sql: str, tokens: list[Token], base: int) -> None:
        calls.append((sql, list(tokens), base))

    monkeypatch.setattr(unit_module, "_DIALECT", _Recorder(unit_module._DIALECT, seen))
    monkeypatch.setattr(unit_module, "quick_parse", held_back, raising=False)
    for i, path in enumerate(paths):
        load(path, str(path), None if texts is None else texts[i])
    return seen, calls


def _sql_files() -> Iterator[Path]:
    for rel in CORPUS_DIRS:
        yield from sorted((PROJECT_ROOT / rel).rglob("*.sql"))


def _check_units(seen: list[str], calls: list[tuple[str, list[Token], int]]) -> int:
    built = 0
    for sql in seen:
        try:
            tokens = tokens_of(sql)
        except SplitError:
            continue
        built += check(sql, tokens)
    for sql, tokens, base in calls:  # the linter's own tokens and offsets
        check(sql, tokens, base)
    return built


def test_every_unit_of_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    files = list(_sql_files())
    assert len(files) > 50
    seen, calls = linter_units(monkeypatch, files)
    assert len(seen) > 200
    built = _check_units(seen, calls)
    dml = sum(
        1 for sql in seen if sql.split(None, 1)[:1] and sql.split()[0].upper()
        in ("SELECT", "UPDATE", "DELETE", "INSERT", "SET")
    )  # fmt: skip
    print(
        f"\nrepository: {len(files)} files, {len(seen)} units, {dml} DML, {built} built by the"
        f" fast path; the linter asked it {len(calls)} times"
    )
    assert built >= 100  # the fast path is in use on real code


def test_sql_written_in_the_test_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SQL snippets of the test suite (rules' positive and negative cases, fixtures): odd
    corners that real files rarely have."""
    texts = []
    for path in sorted((PROJECT_ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if any(word in node.value.upper() for word in ("SELECT", "UPDATE", "SET ")):
                    texts.append(node.value)
    assert len(texts) > 200
    paths = [Path(f"snippet{i}.sql") for i in range(len(texts))]
    seen, calls = linter_units(monkeypatch, paths, texts)
    built = _check_units(seen, calls)
    print(f"\ntest suite: {len(texts)} snippets, {len(seen)} units, {built} built by the fast path")
    assert built >= 100


def _benchmark_routines(tmp_path: Path, count: int) -> Path:
    spec = importlib.util.spec_from_file_location(
        "lint_speed", PROJECT_ROOT / "benchmarks" / "lint_speed.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "routines.sql"
    module.make_routines(path, count)
    return path


def test_benchmark_routines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every unit of the benchmark's routine library is built by the fast path except its three
    CREATE TABLE statements (DDL is not in the fast path's subset)."""
    seen, calls = linter_units(monkeypatch, [_benchmark_routines(tmp_path, 3)])
    assert len(seen) >= 3 + 8  # the tables, then 8 units a procedure-and-trigger pair
    built = [sql for sql in seen if check(sql)]
    missed = [sql for sql in seen if sql not in built]
    assert [sql.split("(")[0].split()[:2] for sql in missed] == [["CREATE", "TABLE"]] * 3
    print(f"\nbenchmark routines: {len(seen)} units, {len(built)} built by the fast path")
    for sql, tokens, base in calls:
        check(sql, tokens, base)

    # how much faster: a print, not an assertion (run with -s); the best of a few rounds
    units = [(sql, tokens_of(sql)) for sql in built]
    quick = slow = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(10):
            for sql, tokens in units:
                quick_parse(sql, tokens, 0)
        quick = min(quick, (time.perf_counter() - start) / (10 * len(units)))
        start = time.perf_counter()
        for sql, _tokens in units:
            _MYSQL.parse(sql)
        slow = min(slow, (time.perf_counter() - start) / len(units))
    print(
        f"benchmark units: quick_parse {quick * 1e6:.1f} us, sqlglot {slow * 1e6:.1f} us"
        f" per unit: {slow / quick:.1f}x"
    )


# -- 3. generated statements ------------------------------------------------------------------
QUOTED_TWO = "'2'"


class _Generator:
    """Random statements over the fast path's subset and just past it: names that are keywords
    to sqlglot, odd spacing, operators in every order, constructs it must give up on."""

    NAMES = ["a", "b", "v_id", "total", "status", "user", "count", "value", "at", "name",
             "`a b`", "`select`", "date", "key", "comment", "first", "end", "if", "left",
             "NEW.total", "OLD.note", "t.a", "db.t.a", "`t`.`a`", "t.`b`"]  # fmt: skip
    LITERALS = ["0", "1", "42", "007", "1.5", "10.25", "'x'", "'it''s'", "''", "\"dq\"",
                "'a\\'b'", "NULL", "TRUE", "FALSE", "@v", "?", ".5", "1e3", "0x1F",
                "N'n'", "@@x", "'%'"]  # fmt: skip
    FUNCTIONS = [
        "CONCAT",
        "COALESCE",
        "IFNULL",
        "NULLIF",
        "NOW",
        "SUM",
        "MAX",
        "COUNT",
        "my_fn",
        "LEFT",
        "MOD",
        "ROUND",
        "GREATEST",
        "IF",
        "FLOOR",
        "CEIL",
        "DATE",
        "LOWER",
        "DATE_ADD",
        "TIMESTAMPDIFF",
        "CAST",
        "SUBSTRING",
        "UUID",
        "ABS",
    ]
    BINARY = ["OR", "AND", "&&", "||", "XOR", "=", "<>", "!=", "<=>", "<", "<=", ">", ">=",
              "+", "-", "*", "/", "DIV", "MOD", "%", "<<", "&", "|", "^", "LIKE", "NOT LIKE",
              "REGEXP", "<=", "< =", "- -"]  # fmt: skip
    TABLES = ["t", "orders o", "orders AS o", "db.t", "`t`", "t AS `x`", "t x", "t date"]

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def pick(self, items: list[str]) -> str:
        return self.rnd.choice(items)

    def sp(self) -> str:
        return self.rnd.choice([" ", " ", " ", "  ", "\n  ", ""])

    def expr(self, depth: int = 0) -> str:
        r = self.rnd.random()
        if depth > 2 or r < 0.35:
            return self.pick(self.NAMES if self.rnd.random() < 0.6 else self.LITERALS)
        if r < 0.6:
            op = self.pick(self.BINARY)
            return f"{self.expr(depth + 1)}{self.sp() or ' '}{op} {self.expr(depth + 1)}"
        if r < 0.68:
            return f"{self.pick(['NOT ', '-', '- ', '+', '!'])}{self.expr(depth + 1)}"
        if r < 0.76:
            return f"({self.expr(depth + 1)})"
        if r < 0.86:
            name = self.pick(self.FUNCTIONS)
            args = ", ".join(self.expr(depth + 1) for _ in range(self.rnd.randint(0, 3)))
            return f"{name}({'*' if name == 'COUNT' and not args else args})"
        if r < 0.9:
            x = self.expr(depth + 1)
            return self.pick(
                [
                    f"{x} IS NULL",
                    f"{x} IS NOT NULL",
                    f"{x} IS TRUE",
                    f"{x} NOT BETWEEN 1 AND {self.expr(depth + 1)}",
                    f"{x} BETWEEN {self.expr(depth + 1)} AND 2",
                    f"{x} IN ({self.expr(depth + 1)}, 'b')",
                    f"{x} NOT IN (1)",
                ]
            )
        if r < 0.94:
            unit = self.pick(["DAY", "HOUR", "YEAR", "MONTH", "day", "foo"])
            return f"INTERVAL {self.pick(['1', '30', '-1', 'v_days', QUOTED_TWO])} {unit}"
        if r < 0.97:
            return f"CASE WHEN {self.expr(depth + 1)} THEN {self.expr(depth + 1)} ELSE 0 END"
        return f"(SELECT {self.expr(depth + 1)} FROM t)"

    def statement(self) -> str:
        kind = self.rnd.random()
        where = f" WHERE {self.expr()}" if self.rnd.random() < 0.7 else ""
        if kind < 0.4:
            items = ", ".join(
                self.expr() + self.pick(["", "", " AS x", " y", " AS `z`"])
                for _ in range(self.rnd.randint(1, 3))
            )
            frm = f" FROM {self.pick(self.TABLES)}" if self.rnd.random() < 0.8 else ""
            if frm and self.rnd.random() < 0.3:
                join = self.pick(["JOIN", "LEFT JOIN", "INNER JOIN", ", u JOIN"])
                frm += f" {join} u ON u.a = {self.expr(1)}"
            tail = self.pick(
                [
                    "",
                    "",
                    " ORDER BY a DESC",
                    " GROUP BY a",
                    " LIMIT 1",
                    " LIMIT 1, 2",
                    " FOR UPDATE",
                    " ORDER BY a, b LIMIT 3",
                ]
            )
            return f"SELECT{self.pick(['', ' DISTINCT'])} {items}{frm}{where if frm else ''}{tail}"
        if kind < 0.6:
            sets = ", ".join(f"{self.pick(self.NAMES)} = {self.expr()}" for _ in range(2))
            return f"UPDATE {self.pick(self.TABLES)} SET {sets}{where}"
        if kind < 0.7:
            return f"DELETE FROM {self.pick(self.TABLES[:5])}{where}"
        if kind < 0.85:
            row = ", ".join(self.expr(1) for _ in range(2))
            return f"INSERT INTO t (a, b) VALUES ({row}), ({row})"
        target = self.pick(["v_x", "@x", "NEW.a", "names", "`v`"])
        return f"SET {target} = {self.expr()}"


def test_generated_statements() -> None:
    gen = _Generator(seed=11)
    built = total = 0
    for _ in range(2500):
        sql = gen.statement()
        try:
            tokens = tokens_of(sql)
        except SplitError:
            continue
        total += 1
        built += check(sql, tokens)
    print(f"\ngenerated: {total} statements, {built} built by the fast path")
    assert built > total // 5  # the generator does exercise the fast path
