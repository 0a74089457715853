"""The statement splitter: DELIMITER blocks, compound bodies, quotes and comments."""

from __future__ import annotations

import time

import pytest

from ticketdb import sqlscript
from ticketdb.sqlscript import SplitError, create_header, split, tokenize

SCRIPT = """-- header comment; with a semicolon
CREATE TABLE a (id INT, s VARCHAR(10) DEFAULT ';'); # trailing
DELIMITER ;;
CREATE PROCEDURE p()
BEGIN
  SELECT 1; SELECT "x;y";
END ;;
DELIMITER ;
CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW
BEGIN
  DECLARE x INT DEFAULT 0;
  IF NEW.id IS NULL THEN SET NEW.id = IF(1, 2, 3); ELSEIF NEW.id = 2 THEN SET x = 1; END IF;
  lbl: LOOP LEAVE lbl; END LOOP lbl;
  REPEAT SET x = x + 1; UNTIL x > 3 END REPEAT;
  WHILE x < 10 DO SET x = x + 1; END WHILE;
  SET x = CASE WHEN x > 1 THEN 1 ELSE 2 END;
  CASE x WHEN 1 THEN SET x = 2; ELSE BEGIN END; END CASE;
  SET @s = REPEAT('a', 3);
END;
CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO CALL p();
CREATE TRIGGER t2 AFTER INSERT ON a FOR EACH ROW IF NEW.id > 1 THEN SET @x = 1; END IF;
START TRANSACTION;
SELECT 'it''s; fine', `odd;name` FROM a /* ; */
"""


def test_split_keeps_compound_statements_whole() -> None:
    stmts = split(SCRIPT)
    heads = [s.first_words(3) for s in stmts]
    assert heads == [
        ["CREATE", "TABLE", "A"],
        ["CREATE", "PROCEDURE", "P"],
        ["CREATE", "TRIGGER", "T"],
        ["CREATE", "EVENT", "E"],
        ["CREATE", "TRIGGER", "T2"],
        ["START", "TRANSACTION"],
        ["SELECT", "FROM", "A"],
    ]
    assert [s.line for s in stmts] == [2, 4, 9, 20, 21, 22, 23]
    assert stmts[1].text.endswith("END") and stmts[1].delimiter == ";;"
    assert stmts[2].text.rstrip().endswith("END")
    assert "END REPEAT" in stmts[2].text
    assert stmts[-1].terminated is False


def test_create_header_skips_definer_and_if_not_exists() -> None:
    h = create_header("CREATE DEFINER=`root`@`localhost` PROCEDURE `my proc`() SELECT 1")
    assert (h.kind, h.name) == ("PROCEDURE", "my proc")
    h = create_header("CREATE TABLE IF NOT EXISTS db.t (id INT)")
    assert (h.kind, h.name) == ("TABLE", "t")
    h = create_header("CREATE DEFINER=CURRENT_USER SQL SECURITY INVOKER VIEW v AS SELECT 1")
    assert (h.kind, h.name) == ("VIEW", "v")
    assert create_header("SELECT 1") is None


@pytest.mark.parametrize("bad", ["SELECT 'open", "SELECT `x", "SELECT /* never closed"])
def test_unterminated_tokens_raise_with_location(bad: str) -> None:
    with pytest.raises(SplitError) as err:
        split("SELECT 1;\n" + bad)
    assert err.value.line == 2


def test_pattern_without_possessive_quantifiers_lexes_the_same(monkeypatch, project) -> None:
    """Python 3.10 has no possessive quantifiers: its fallback pattern must give the same tokens
    on every SQL file of the project, and stay fast on a long unterminated string."""
    files = [p for d in ("migrations", "procedures", "triggers", "events", "queries", "grants")
             for p in sorted((project.root / d).glob("*.sql"))]  # fmt: skip
    texts = [f.read_text(encoding="utf-8") for f in files] + [SCRIPT]
    expected = [tokenize(t, directives=True) for t in texts]
    monkeypatch.setattr(sqlscript, "_POSSESSIVE", False)
    monkeypatch.setattr(sqlscript, "_PATTERNS", {})  # one pattern per delimiter, made again
    assert [tokenize(t, directives=True) for t in texts] == expected
    assert {d for d, _ in sqlscript._PATTERNS} >= {";", ";;"}
    lean = [[t for t in toks if t.kind != "ws"] for toks in expected]
    assert [tokenize(t, directives=True, whitespace=False) for t in texts] == lean
    assert not any("++" in p.pattern for p in sqlscript._PATTERNS.values())
    assert len(files) > 20
    start = time.perf_counter()
    with pytest.raises(SplitError):
        split("SELECT 'x" + ("a" * 40 + "\\'c''") * 20_000)  # no closing quote
    assert time.perf_counter() - start < 5


def _lexed(sql: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(sql, directives=True) if t.kind != "ws"]


def test_custom_delimiters_end_words_and_tokens_like_the_mysql_client() -> None:
    """The delimiter is looked for at every token start, and one made of word characters
    (``$$``) also inside a word: ``END$$`` is END then the delimiter, as mysql reads it."""
    sql = "DELIMITER $$\nSELECT 'a$$' /* $$ */ a$$$ `b$$`$$\nEND$$\nDELIMITER //\nx;y//z/\n"
    assert _lexed(sql) == [
        ("directive", "DELIMITER $$"), ("word", "SELECT"), ("string", "'a$$'"),
        ("comment", "/* $$ */"), ("word", "a"), ("delim", "$$"), ("word", "$"),
        ("quoted", "`b$$`"), ("delim", "$$"), ("word", "END"), ("delim", "$$"),
        ("directive", "DELIMITER //"), ("word", "x"), ("punct", ";"), ("word", "y"),
        ("delim", "//"), ("word", "z"), ("punct", "/"),
    ]  # fmt: skip
    # a delimiter with a word character and another one ends no word: `abc$` then `;`
    assert _lexed("DELIMITER $;\nabc$; $;")[1:] == [
        ("word", "abc$"), ("punct", ";"), ("delim", "$;"),
    ]  # fmt: skip


def test_directive_only_where_a_line_starts() -> None:
    """A DELIMITER line may be indented (any whitespace); not after other tokens on the line, and
    not inside a multi-line comment or string."""
    sql = "\f\tDELIMITER ;;\nSELECT 1;;\n/*\nDELIMITER $$\n*/ x DELIMITER //\n'\nDELIMITER ;'\n"
    toks = tokenize(sql, directives=True)
    assert [(t.text, t.line, t.col) for t in toks if t.kind == "directive"] == [
        ("DELIMITER ;;", 1, 3)
    ]
    assert [(t.text, t.line) for t in toks if t.kind == "delim"] == [(";;", 2)]
    assert [t.line for t in toks if t.kind == "string"] == [6]
    assert toks[-1].line == 7 and toks[-1].text == "\n"


def test_lexing_without_whitespace_tokens_gives_the_other_tokens_unchanged(project) -> None:
    """lint lexes with ``whitespace=False`` (blanks folded into the next token's match): the
    tokens must be exactly the significant ones of the full lexing, offsets, lines and columns
    included, on every SQL file here (project, lint corpus and fixtures) and on blank forms
    around DELIMITER lines."""
    roots = [project.root / d for d in ("migrations", "procedures", "triggers", "events",
                                        "queries", "grants")]  # fmt: skip
    roots.append(project.root / "tests" / "lint")
    files = sorted({p for r in roots for p in r.rglob("*.sql")})
    texts = [f.read_text(encoding="utf-8", errors="replace") for f in files] + [SCRIPT]
    texts += [
        "\f\tDELIMITER ;;\nSELECT 1;;\n  \t delimiter ;\nSELECT\r\n2 ;  ",
        "a\n\f \tDELIMITER //\nx//\n \f DELIMITER ;\n\tEND$$ trailing   ",
        "SELECT 'a\nb', `c\nd` -- e\n/* f\n*/ x ;\n",
    ]
    checked = 0
    for text in texts:
        try:
            full = [t for t in tokenize(text, directives=True) if t.kind != "ws"]
        except SplitError as exc:
            with pytest.raises(SplitError) as again:
                tokenize(text, directives=True, whitespace=False)
            assert (again.value.line, again.value.col) == (exc.line, exc.col)
            continue
        assert tokenize(text, directives=True, whitespace=False) == full
        assert [t for t in tokenize(text) if t.kind != "ws"] == tokenize(text, whitespace=False)
        checked += 1
    assert len(files) > 40 and checked > 40
    with pytest.raises(SplitError) as err:
        tokenize("SELECT 1;\n   'open", whitespace=False)
    assert (err.value.line, err.value.col) == (2, 4)
