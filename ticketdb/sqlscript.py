"""Split SQL scripts the way the mysql client does, without needing DELIMITER.

Used by ``migrate`` (repeatable object files) and ``lint``. Handles quotes, backticks,
``--``/``#``/``/* */`` comments, ``DELIMITER`` directives (``;;``, ``$$``, ``//`` …) and, when the
delimiter is ``;``, compound bodies of CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT: ``BEGIN … END``,
``IF … END IF``, ``CASE … END [CASE]``, ``LOOP/REPEAT/WHILE … END …`` stay in one statement.
sqlparse (yoyo's splitter) breaks ``REPEAT … UNTIL``; this does not.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import NamedTuple

_WORD = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]+")
_DELIMITER_LINE = re.compile(r"[ \t]*DELIMITER[ \t]+(\S+)[^\n]*", re.IGNORECASE)
_ROUTINE_KINDS = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}
# keywords after which a new (inner) statement starts
_STMT_START_AFTER = {"BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT"}
_END_SUFFIX = {"IF", "CASE", "LOOP", "REPEAT", "WHILE", "FOR"}  # FOR: MariaDB loops


class Token(NamedTuple):
    """A lexeme; a NamedTuple because a mysqldump yields millions of them."""

    kind: str  # word | quoted | string | comment | ws | punct | delim | directive
    text: str
    offset: int
    line: int
    col: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class Statement:
    """One statement: its exact source text (no delimiter) and where it starts (1-based)."""

    text: str
    offset: int
    line: int
    col: int
    delimiter: str
    terminated: bool = True

    def first_words(self, n: int = 4) -> list[str]:
        return [t.upper for t in tokenize(self.text) if t.kind == "word"][:n]


class SplitError(ValueError):
    """Unterminated string, quoted identifier or comment."""

    def __init__(self, message: str, line: int, col: int):
        super().__init__(message)
        self.line = line
        self.col = col


_TOKEN_PATTERN = r"""
     (?P<nl>\n)
    |(?P<ws>[^\S\n]+)
    |(?P<comment>(?:\#|--(?=[ \t\r\n]|$))[^\n]*|/\*.*?\*/)
    |(?P<string>'(?:[^'\\]++|\\.|'')*+'|"(?:[^"\\]++|\\.|"")*+")
    |(?P<quoted>`(?:[^`]++|``)*+`)
    |(?P<semi>;)
    |(?P<word>[A-Za-z0-9_$\u0080-\uffff]+)
    |(?P<punct>.)
    """


def token_pattern(
    possessive: bool, delimiter: str = ";", whitespace: bool = True
) -> re.Pattern[str]:
    """The lexer's one pattern; without possessive quantifiers (Python < 3.11) each repetition
    takes one character, which keeps an unterminated string linear (a plain ``[^']+`` inside
    ``*`` would backtrack exponentially).

    A custom delimiter (``DELIMITER ;;``) is the pattern's first alternative, so it is found at
    every token start by the regex engine instead of a test per token; a delimiter made of
    word characters (``$$``) also ends a word it appears in (``END$$``).

    Without ``whitespace`` the spaces and tabs before a token are part of its match (and the
    token's group gives its start), so they cost no turn of the caller's loop: nearly half the
    matches of indented code."""
    text = _TOKEN_PATTERN if possessive else _TOKEN_PATTERN.replace("]++", "]").replace(")*+", ")*")
    if delimiter != ";":
        delim = re.escape(delimiter)
        if _WORD.fullmatch(delimiter):
            text = text.replace(
                f"(?P<word>{_WORD.pattern})", f"(?P<word>(?:(?!{delim}){_WORD.pattern[:-1]})+)"
            )
        text = f"(?P<delim>{delim})|{text}"
    if not whitespace:
        text = (
            "[^\\S\\n]*"
            + ("+" if possessive else "")
            + "(?:"
            + text.replace("|(?P<ws>[^\\S\\n]+)", "")
            + ")"
        )
    return re.compile(text, re.S | re.X)


_POSSESSIVE = sys.version_info >= (3, 11)
_BLANKS = re.compile(r"[^\S\n]*")
_TOKEN = token_pattern(_POSSESSIVE)
_MULTILINE_KINDS = {"comment", "string", "quoted"}
#: one compiled pattern per delimiter seen (a script uses one or two: ``;;``, ``$$``, ``//``)
_PATTERNS: dict[tuple[str, bool], re.Pattern[str]] = {(";", True): _TOKEN}


def _pattern(delimiter: str, whitespace: bool = True) -> re.Pattern[str]:
    pattern = _PATTERNS.get((delimiter, whitespace))
    if pattern is None:
        pattern = token_pattern(_POSSESSIVE, delimiter, whitespace)
        _PATTERNS[delimiter, whitespace] = pattern
    return pattern


def tokenize(
    sql: str, delimiter: str = ";", *, directives: bool = False, whitespace: bool = True
) -> list[Token]:
    """Lex ``sql``; with ``directives`` a line ``DELIMITER x`` switches the delimiter; without
    ``whitespace`` no ``ws`` tokens are made (what lint reads: it skips them anyway).

    One compiled pattern per delimiter does the work (linear even for mysqldump's megabyte-long
    INSERT lines), walked with ``finditer``; the loop only tracks lines, and leaves the walk
    where a line starts with a DELIMITER directive, to go on with the new delimiter's pattern.
    """
    tokens: list[Token] = []
    append = tokens.append
    new = tuple.__new__  # Token(...) without NamedTuple's Python-level __new__: ~10% of lexing
    pos, n, line, line_start = 0, len(sql), 1, 0
    blank = True  # only whitespace so far on this line (DELIMITER must start a line)
    directive_at = _DELIMITER_LINE.match
    if not whitespace:
        # as with whitespace tokens: a directive after any blank (\f, \v) that starts a line
        def directive_at(text: str, at: int) -> re.Match[str] | None:
            m = _DELIMITER_LINE.match(text, at)
            if m is None:
                after = _BLANKS.match(text, at).end()  # type: ignore[union-attr]
                m = _DELIMITER_LINE.match(text, after) if after > at else None
            return m

    text_upper = str.upper
    first = True  # no token yet on this line
    while pos < n:
        if blank and directives:
            m = directive_at(sql, pos)
            if m:
                pos = m.start()
                append(new(Token, ("directive", m.group(0), pos, line, pos - line_start + 1)))
                delimiter = m.group(1)
                pos = m.end()
                blank = False
                continue
        custom = delimiter != ";"
        for m in _pattern(delimiter, whitespace).finditer(sql, pos):
            kind = m.lastgroup
            pos, end = m.span(kind if not whitespace else 0)
            col = pos - line_start + 1
            if kind == "nl":
                if whitespace:
                    append(new(Token, ("ws", "\n", pos, line, col)))
                line += 1
                line_start = end
                first = True
                if directives and whitespace and directive_at(sql, end):
                    break  # pos, below, is the directive's line; blank: nothing on it yet
                continue
            if kind == "ws":
                append(new(Token, ("ws", m.group(), pos, line, col)))
                # whitespace that starts its line keeps the line blank
                if directives and pos == line_start and directive_at(sql, end):
                    break
                continue
            if kind == "punct":
                ch = sql[pos]
                if ch in "'\"`":
                    what = "quoted identifier" if ch == "`" else "string"
                    raise SplitError(f"unterminated {what}", line, col)
                if sql.startswith("/*", pos):
                    raise SplitError("unterminated /* comment", line, col)
            elif kind == "semi":
                kind = "punct" if custom else "delim"
            elif first and directives and kind == "word" and not whitespace:
                # without whitespace tokens a directive is looked for only where a line's
                # first token is the word DELIMITER, not after every newline
                if text_upper(sql[pos:end]) == "DELIMITER" and directive_at(sql, line_start):
                    end = line_start
                    break
            first = False
            append(new(Token, (kind, sql[pos:end], pos, line, col)))
            if kind in _MULTILINE_KINDS:
                nl = sql.count("\n", pos, end)
                if nl:
                    line += nl
                    line_start = sql.rfind("\n", pos, end) + 1
        else:
            break  # the whole rest of the text is lexed
        pos, blank = end, True
    return tokens


def _significant(tokens: list[Token], i: int) -> Token | None:
    while i < len(tokens):
        if tokens[i].kind not in ("ws", "comment"):
            return tokens[i]
        i += 1
    return None


def split(sql: str, tokens: list[Token] | None = None) -> list[Statement]:
    """Split a script into statements, honouring DELIMITER and compound bodies.
    ``tokens``: ``tokenize(sql, directives=True)`` when the caller has it already (lint)."""
    if tokens is None:
        tokens = tokenize(sql, directives=True)
    out: list[Statement] = []
    delimiter = ";"
    cur: list[Token] = []
    depth = 0
    routine = False
    at_start = True
    words: list[str] = []
    skip_next_word = False
    prev_sig: Token | None = None

    def flush(terminated: bool) -> None:
        nonlocal cur, depth, routine, at_start, words, prev_sig
        sig = [t for t in cur if t.kind not in ("ws", "comment")]
        if sig:
            first, last = sig[0], sig[-1]
            text = sql[first.offset : last.offset + len(last.text)]
            out.append(Statement(text, first.offset, first.line, first.col, delimiter, terminated))
        cur, depth, routine, at_start, words, prev_sig = [], 0, False, True, [], None

    for idx, tok in enumerate(tokens):
        if tok.kind == "directive":
            flush(False)
            delimiter = tok.text.split()[1]
            continue
        if tok.kind == "delim":
            if delimiter == ";" and depth > 0:
                cur.append(tok)
                at_start = True
                prev_sig = tok
                continue
            flush(True)
            continue
        cur.append(tok)
        if tok.kind in ("ws", "comment"):
            continue
        if tok.kind == "word" and delimiter == ";":
            w = tok.upper
            if len(words) < 8:
                words.append(w)
                if words[0] in ("CREATE", "ALTER") and w in _ROUTINE_KINDS:
                    routine = True
            if skip_next_word:
                skip_next_word = False
            elif routine:
                nxt = _significant(tokens, idx + 1)
                nxt_text = nxt.upper if nxt else ""
                if w == "BEGIN" and nxt_text not in ("WORK", "TRANSACTION"):
                    depth += 1
                elif w == "CASE":
                    depth += 1
                elif w in ("IF", "REPEAT", "WHILE", "LOOP", "FOR") and at_start and nxt_text != "(":
                    depth += 1
                elif w == "END" and depth > 0:
                    depth -= 1
                    if nxt is not None and nxt.kind == "word" and nxt_text in _END_SUFFIX:
                        skip_next_word = True
            at_start = w in _STMT_START_AFTER or (
                w == "ROW" and prev_sig is not None and prev_sig.upper == "EACH"
            )
        elif tok.kind == "punct" and tok.text == ":" and prev_sig is not None:
            at_start = prev_sig.kind in ("word", "quoted")  # label:
        else:
            at_start = False
        prev_sig = tok
    flush(False)
    return out


@dataclass(frozen=True)
class ObjectHeader:
    """What a CREATE statement defines: kind (PROCEDURE/FUNCTION/TRIGGER/EVENT/VIEW/TABLE…)."""

    kind: str
    name: str
    name_offset: int  # offset of the name token inside the statement text


_SKIP_IN_HEADER = {
    "OR", "REPLACE", "DEFINER", "SQL", "SECURITY", "INVOKER", "ALGORITHM", "UNDEFINED",
    "MERGE", "TEMPTABLE", "AGGREGATE", "TEMPORARY", "IF", "NOT", "EXISTS", "CURRENT_USER",
}  # fmt: skip
_OBJECT_KINDS = _ROUTINE_KINDS | {"VIEW", "TABLE", "INDEX", "DATABASE", "SCHEMA"}


def create_header(text: str) -> ObjectHeader | None:
    """Parse ``CREATE [DEFINER=…] [SQL SECURITY …] KIND [IF NOT EXISTS] name`` from a statement."""
    toks = [t for t in tokenize(text) if t.kind not in ("ws", "comment")]
    if not toks or toks[0].upper != "CREATE":
        return None
    i = 1
    kind = None
    while i < len(toks):
        t = toks[i]
        if t.kind == "word" and t.upper in _OBJECT_KINDS:
            kind = t.upper
            i += 1
            break
        i += 1
    if kind is None:
        return None
    while i < len(toks) and toks[i].kind == "word" and toks[i].upper in ("IF", "NOT", "EXISTS"):
        i += 1
    if i >= len(toks):
        return None
    name_tok = toks[i]
    name = name_tok.text
    # schema-qualified: db.name
    if i + 2 < len(toks) and toks[i + 1].text == "." and toks[i + 2].kind in ("word", "quoted"):
        name_tok = toks[i + 2]
        name = name_tok.text
    if name.startswith("`"):
        name = name[1:-1].replace("``", "`")
    return ObjectHeader(kind, name, name_tok.offset)
