"""The schema-only passes read a streamed region without the lexer where they can
(ticketdb.lint.parse.light): the statements, their words and their routine headers must be
exactly those that lexing the region gives, or the region must be left to the lexer."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lint_helpers import FIXTURES

from ticketdb.lint.parse import light, stream
from ticketdb.lint.parse.files import lex_sql
from ticketdb.lint.parse.model import ParsedStatement, SourceFile
from ticketdb.sqlscript import SplitError

HERE = Path(__file__).parent
FILES = sorted([*(HERE / "corpus").rglob("*.sql"), *(HERE / "thirdparty").glob("*.sql")])
FILES += sorted(FIXTURES.glob("*.sql"))
ROUTINES = """\
DELIMITER ;;
CREATE DEFINER=`app`@`%` PROCEDURE `shop`.`p_{n}`(IN a INT, OUT b DECIMAL(12,2), c TEXT)
    MODIFIES SQL DATA
BEGIN
    DECLARE v INT DEFAULT 0; -- a comment; with ;; in it
    SET v = (SELECT COUNT(*) FROM orders WHERE note = 'a;;b' AND x - 1 > 2 / 3);
    IF v > 0 THEN UPDATE orders SET note = "it's" WHERE id = a; END IF;
END ;;
CREATE FUNCTION f_{n}(x INT) RETURNS INT DETERMINISTIC RETURN x + 1 ;;
CREATE TRIGGER t_{n} BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = `x``y` ;;
DROP PROCEDURE IF EXISTS `p_old`;;
DELIMITER $$
CREATE PROCEDURE q_{n}() BEGIN SELECT 'x$$y' FROM dual; END$$
DELIMITER ;
CALL p_{n}(1, @b, 'c');
"""
ATOMS = [
    "SELECT", " ", "\n", "\t", "'a;b'", "'x", '"q"', "`n``m`", "`", "-- c\n", "--x", "#h\n",
    "/* c */", "/*", "*/", ";", ";;", "$$", "//", "DELIMITER ;;\n", "DELIMITER $$\n",
    "DELIMITER ;\n", "  DELIMITER //\n", "delimiter ;\n", "\fDELIMITER ;;\n", "DELIMITER",
    "BEGIN", "END", "END IF", "CREATE PROCEDURE p(IN a INT, b INT)", "DROP FUNCTION f",
    "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW", "USE db", "lbl:", "(", ")", "é",
    "\u00a0", "\u3000", "\r\n", "\f", "\\'", "x\\", "'it''s'", "1.5", "END$$", "a$$b", "a//b",
    "-", "/", "a-b", "x-- y\n", "\U0001d518", "CALL p(1)", "GO", "DELIMITER GO\n",
    "DELIMITER $;\n", "abc$;",
]  # fmt: skip


def _key(ps: ParsedStatement) -> tuple[object, ...]:
    r = ps.routine
    routine = (r.kind, r.name, sorted(r.params), r.param_count) if r is not None else None
    return (ps.stmt, ps.words, ps.header, routine)


def _check(text: str, base: int) -> bool:
    """Light and lexed readings agree (True), or light leaves the region to the lexer."""
    src = SourceFile(Path("x.sql"), "x.sql", " " * base + text, "script")
    got = light.scan(src, base, base + len(text))
    if got is None:
        return False
    try:
        _, tokens, pieces, _ = lex_sql(text, base)
    except SplitError:  # pragma: no cover - the assertion says what went wrong
        pytest.fail(f"light read a region the lexer rejects: {text!r}")
    directives = [t for t in tokens if t.kind == "directive"]
    complete = not (
        (directives and directives[-1].text.split()[1:2] != [";"])
        or (pieces and not pieces[-1].terminated)
    )
    assert got == (pieces, complete), text
    whole = stream._headers(tokens, pieces)
    head = light.headers(got[0])
    assert [_key(ps) for ps in head] == [_key(ps) for ps in whole], text
    for full, part in zip(whole, head, strict=True):  # the first tokens, as the lexer made them
        assert full.tokens[: len(part.tokens)] == part.tokens, text
    return True


def test_routine_library_is_read_without_the_lexer() -> None:
    text = "".join(ROUTINES.format(n=n) for n in range(3))
    assert _check(text, 1234)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_files_read_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for start in range(0, len(text), 2000):
        _check(text[start : start + 3000], start)
    _check(text, 7)


@pytest.mark.parametrize("seed", range(4))
def test_random_scripts_read_the_same(seed: int) -> None:
    rnd = random.Random(seed)
    read = 0
    for _ in range(600):
        words = (rnd.choice(ATOMS) + rnd.choice(["", " ", "\n"]) for _ in range(rnd.randint(1, 50)))
        read += _check("".join(words), rnd.randint(0, 99))
    # no unterminated quote, backslash, non-ASCII space, DELIMITER line (CREATE under ";")
    odd = ("'x", "`", "/*", "\\", "\u00a0", "\u3000", "DELIMITER", "CREATE")
    bodies = [a for a in ATOMS if not any(o.upper() in a.upper() for o in odd)]
    heads = [x for x in ROUTINES.format(n=1).splitlines() if not x.startswith(("DELIM", "CALL"))]
    for _ in range(600):
        delimiter = rnd.choice([";;", "$$", "//", "GO", "|"])
        parts = [f"DELIMITER {delimiter}\n"]
        for _ in range(rnd.randint(1, 5)):
            head = rnd.choice(heads)
            body = (
                rnd.choice(bodies) + rnd.choice(["", " ", "\n"]) for _ in range(rnd.randint(0, 25))
            )
            parts.append(f"{head} {''.join(body)}{rnd.choice([delimiter, delimiter + chr(10)])}")
        parts.append(rnd.choice(["DELIMITER ;\n", "DELIMITER ;", ""]))
        read += _check("".join(parts), rnd.randint(0, 99))
    assert read > 500  # most of the second kind are read without the lexer
