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


#: each pattern's group number -> token kind
_KINDS: dict[re.Pattern[str], tuple[str, ...]] = {}


def _pattern(delimiter: str, whitespace: bool = True) -> re.Pattern[str]:
    pattern = _PATTERNS.get((delimiter, whitespace))
    if pattern is None:
        pattern = token_pattern(_POSSESSIVE, delimiter, whitespace)
        _PATTERNS[delimiter, whitespace] = pattern
    if pattern not in _KINDS:
        names = {i: name for name, i in pattern.groupindex.items()}
        _KINDS[pattern] = tuple(names.get(i, "") for i in range(pattern.groups + 1))
    return pattern


def directive_after_blanks(text: str, at: int) -> re.Match[str] | None:
    """A DELIMITER directive on the line starting at ``at``, after any blanks (\\f, \\v):
    where the lexer finds one without whitespace tokens, as it does with them."""
    m = _DELIMITER_LINE.match(text, at)
    if m is None:
        after = _BLANKS.match(text, at).end()  # type: ignore[union-attr]
        m = _DELIMITER_LINE.match(text, after) if after > at else None
    return m


def tokenize(
    sql: str,
    delimiter: str = ";",
    *,
    directives: bool = False,
    whitespace: bool = True,
    base: int = 0,
    line: int = 1,
    col: int = 1,
) -> list[Token]:
    """Lex ``sql``; with ``directives`` a line ``DELIMITER x`` switches the delimiter; without
    ``whitespace`` no ``ws`` tokens are made (what lint reads: it skips them anyway).
    ``sql`` may be a piece of a bigger text: ``base`` is added to every offset, and ``line``,
    ``col`` are where its first character is.

    One compiled pattern per delimiter does the work (linear even for mysqldump's megabyte-long
    INSERT lines), walked with ``finditer``; the loop only tracks lines, and leaves the walk
    where a line starts with a DELIMITER directive, to go on with the new delimiter's pattern.
    """
    tokens: list[Token] = []
    append = tokens.append
    new = tuple.__new__  # Token(...) without NamedTuple's Python-level __new__: ~10% of lexing
    pos, n, line_start = 0, len(sql), 1 - col  # col = pos - line_start + 1
    blank = True  # only whitespace so far on this line (DELIMITER must start a line)
    directive_at = _DELIMITER_LINE.match if whitespace else directive_after_blanks

    text_upper = str.upper
    first = True  # no token yet on this line
    while pos < n:
        if blank and directives:
            m = directive_at(sql, pos)
            if m:
                pos = m.start()
                col = pos - line_start + 1
                append(new(Token, ("directive", m.group(0), pos + base, line, col)))
                delimiter = m.group(1)
                pos = m.end()
                blank = False
                continue
        pattern = _pattern(delimiter, whitespace)
        # group numbers, not names: m.lastindex and m.span(int) cost less per token
        gi = pattern.groupindex
        word_i, nl_i, punct_i, semi_i = gi["word"], gi["nl"], gi["punct"], gi["semi"]
        ws_i, kinds = gi.get("ws", -1), _KINDS[pattern]
        semi_kind = "punct" if delimiter != ";" else "delim"
        for m in pattern.finditer(sql, pos):
            i = m.lastindex
            pos, end = m.span(i)
            if i == word_i:  # most tokens: nothing to look at but a line's first word
                if first:
                    first = False
                    # without whitespace tokens a directive is looked for only where a
                    # line's first token is the word DELIMITER, not after every newline
                    if (
                        directives
                        and not whitespace
                        and text_upper(sql[pos:end]) == "DELIMITER"
                        and directive_at(sql, line_start)
                    ):
                        end = line_start
                        break
                append(new(Token, ("word", sql[pos:end], pos + base, line, pos - line_start + 1)))
                continue
            if i == nl_i:
                if whitespace:
                    append(new(Token, ("ws", "\n", pos + base, line, pos - line_start + 1)))
                line += 1
                line_start = end
                first = True
                if directives and whitespace and directive_at(sql, end):
                    break  # pos, below, is the directive's line; blank: nothing on it yet
                continue
            col = pos - line_start + 1
            if i == ws_i:
                append(new(Token, ("ws", m.group(), pos + base, line, col)))
                # whitespace that starts its line keeps the line blank
                if directives and pos == line_start and directive_at(sql, end):
                    break
                continue
            first = False
            if i == punct_i:
                ch = sql[pos]
                if ch in "'\"`":
                    what = "quoted identifier" if ch == "`" else "string"
                    raise SplitError(f"unterminated {what}", line, col)
                if ch == "/" and sql.startswith("/*", pos):
                    raise SplitError("unterminated /* comment", line, col)
                append(new(Token, ("punct", ch, pos + base, line, col)))
                continue
            kind = semi_kind if i == semi_i else kinds[i]
            append(new(Token, (kind, sql[pos:end], pos + base, line, col)))
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


def split(sql: str, tokens: list[Token] | None = None, base: int = 0) -> list[Statement]:
    """Split a script into statements, honouring DELIMITER and compound bodies.
    ``tokens``: ``tokenize(sql, directives=True, base=base)`` when the caller has it already
    (lint); the statements' offsets are then file offsets too.

    Most statements end at the next delimiter or directive token, found by a C-speed search
    of the token kinds; only a routine under the ``;`` delimiter (its body holds ``;``) is
    walked token by token, tracking BEGIN/END depth."""
    if tokens is None:
        tokens = tokenize(sql, directives=True, base=base)
    out: list[Statement] = []
    kinds = [t[0] for t in tokens]
    bounds = [k for k, kind in enumerate(kinds) if kind == "delim" or kind == "directive"]
    n = len(tokens)
    bounds.append(n)
    delimiter = ";"
    i = b = 0
    while i < n:
        while bounds[b] < i:
            b += 1
        j = bounds[b]
        if delimiter == ";" and _is_routine(tokens, kinds, i, j):
            i = _split_routine(sql, base, tokens, i, out)  # past the delimiter that ended it
            continue
        _emit(sql, base, tokens, kinds, i, j, delimiter, j < n and kinds[j] == "delim", out)
        if j < n and kinds[j] == "directive":
            delimiter = tokens[j].text.split()[1]
        i = j + 1
    return out


def _emit(
    sql: str,
    base: int,
    tokens: list[Token],
    kinds: list[str],
    i: int,
    j: int,
    delimiter: str,
    terminated: bool,
    out: list[Statement],
) -> None:
    """The statement of tokens[i:j], from its first to its last significant token (none:
    no statement)."""
    while i < j and (kinds[i] == "ws" or kinds[i] == "comment"):
        i += 1
    if i == j:
        return
    j -= 1
    while kinds[j] == "ws" or kinds[j] == "comment":
        j -= 1
    first, last = tokens[i], tokens[j]
    text = sql[first.offset - base : last.offset - base + len(last.text)]
    out.append(Statement(text, first.offset, first.line, first.col, delimiter, terminated))


def _is_routine(tokens: list[Token], kinds: list[str], i: int, j: int) -> bool:
    """CREATE/ALTER … PROCEDURE/FUNCTION/TRIGGER/EVENT within the first eight words of
    tokens[i:j] (where the token walk below would start tracking depth)."""
    words: list[str] = []
    for k in range(i, j):
        if kinds[k] == "word":
            words.append(tokens[k].text.upper())
            if words[0] not in ("CREATE", "ALTER"):
                return False
            if len(words) == 8:
                break
    return any(w in _ROUTINE_KINDS for w in words[1:])


def _split_routine(
    sql: str, base: int, tokens: list[Token], start: int, out: list[Statement]
) -> int:
    """Walk one statement under the ``;`` delimiter from tokens[start], token by token with
    BEGIN/END depth, append it to ``out``; the index after the token that ended it."""
    cur: list[Token] = []
    depth = 0
    routine = False
    at_start = True
    words: list[str] = []
    skip_next_word = False
    prev_sig: Token | None = None

    def flush(terminated: bool) -> None:
        sig = [t for t in cur if t.kind not in ("ws", "comment")]
        if sig:
            first, last = sig[0], sig[-1]
            text = sql[first.offset - base : last.offset - base + len(last.text)]
            out.append(Statement(text, first.offset, first.line, first.col, ";", terminated))

    for idx in range(start, len(tokens)):
        tok = tokens[idx]
        if tok.kind == "directive":
            flush(False)
            return idx  # the caller reads the directive
        if tok.kind == "delim":
            if depth > 0:
                cur.append(tok)
                at_start = True
                prev_sig = tok
                continue
            flush(True)
            return idx + 1
        cur.append(tok)
        if tok.kind in ("ws", "comment"):
            continue
        if tok.kind == "word":
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
    return len(tokens)


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
