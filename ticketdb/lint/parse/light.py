"""What the schema-only passes read from a streamed region that names no table: where its
statements are and their routine headers, found without making a token for every word.

Why: the dry run reads every region of a big script once more than the check does (and a
parallel check's workers read the regions before their own). Lexing a routine body token by
token was most of that reading, though only the statement boundaries and the first words of
each statement (kind, name, parameters) are used there. The *skeleton* pattern here is the
lexer's own pattern (``sqlscript.token_pattern``) with its word alternative replaced by a *run*:
words and punctuation that cannot start a string, comment, quoted name, ``;`` or delimiter,
with the spaces between them. Strings, comments, quoted names and delimiters are matched by
the lexer's own alternatives, so they start and end where the lexer's tokens do; a run starts
and ends where a significant token does. Only the first ~40 tokens of each statement are then
lexed for real. A region this does not handle exactly (an unterminated string, client commands,
executable comments, mysqldump's long INSERT lines, a CREATE/ALTER under the ``;`` delimiter,
whose body would need BEGIN/END depth) gives None, and the caller lexes it whole.
``tests/lint/test_light.py`` checks that both ways give the same statements.
"""

from __future__ import annotations

import re

from ticketdb.lint.parse.client import (
    _BACKSLASH_COMMAND,
    _FIRST_LINE_COMMAND,
    _NEXT_LINE_COMMAND,
    BOM,
    _may_hold_commands,
)
from ticketdb.lint.parse.files import _BULK_LINE
from ticketdb.lint.parse.model import ParsedStatement, Routine, SourceFile
from ticketdb.lint.parse.routine import _params, _skip_group
from ticketdb.lint.parse.statement import HEADER_TOKENS, read_header
from ticketdb.lint.parse.words import ROUTINE_KINDS
from ticketdb.sqlscript import (
    _POSSESSIVE,
    ObjectHeader,
    SplitError,
    Statement,
    Token,
    directive_after_blanks,
    token_pattern,
    tokenize,
)

_WORD_GROUP = re.compile(r"\(\?P<word>(.*?)\)\n    \|\(\?P<punct>", re.S)
_SKELETONS: dict[str, tuple[re.Pattern[str], re.Pattern[str], dict[str, int]]] = {}
#: whitespace other than ASCII's: a word may hold it (the lexer's word class is wide)
_ODD_SPACE = re.compile(r"[^\S \t\n\r\f\v]")
_ODD_ASCII_SPACES = "\x1c\x1d\x1e\x1f"
_WORD_CHAR = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]+")
_LONG = 20_000  # from this length a region may hold bulk INSERT rows (blanked by lex_sql)
_HEAD = 100  # characters of a statement lexed at first for its header
_DROP_WORDS = {"PROCEDURE", "FUNCTION", "IF", "EXISTS"}


class _Unsure(Exception):
    """The region holds something the skeleton does not read exactly."""


def _skeleton(delimiter: str) -> tuple[re.Pattern[str], re.Pattern[str], dict[str, int]]:
    """The lexer's pattern (without whitespace tokens) for ``delimiter`` with its word
    alternative widened to a run; the word pattern alone; the group numbers."""
    found = _SKELETONS.get(delimiter)
    if found is not None:
        return found
    if _WORD_CHAR.search(delimiter) and not _WORD_CHAR.fullmatch(delimiter):
        # ("$;"): the lexer finds it after a word, not inside one; a run cannot tell
        raise _Unsure
    text = token_pattern(_POSSESSIVE, delimiter, whitespace=False).pattern
    m = _WORD_GROUP.search(text)
    assert m is not None, "sqlscript's token pattern changed: update the skeleton"
    word = m.group(1)
    # a run: characters that start nothing else (not a newline, a quote, "#", a "-" or "/"
    # that starts a comment, ";" under ";", the delimiter), with blanks, over newlines too
    # though not one before a DELIMITER line; it may end in blanks (the caller strips them).
    # Non-ASCII spaces, which a word may hold, are not read here (scan() says so).
    d0 = re.escape(delimiter[0]) if delimiter != ";" else ""
    no_delim = f"(?!{re.escape(delimiter)})" if delimiter != ";" else ""
    plain = f"[^\\n'\"`\\#/;\\-{d0}]" + ("++" if _POSSESSIVE else "+")
    if delimiter != ";" and delimiter[0] != ";":
        plain += "|;"
    # the delimiter's first character where it starts no delimiter (and nothing else)
    lone = f"|{d0}" if d0 and delimiter[0] not in "'\"`#/-" else ""
    other = f"{no_delim}(?:-(?!-)|/(?!\\*){lone})"
    newline = "\\n(?![ \\t\\r\\f\\v]*(?i:DELIMITER)[ \\t]+\\S)"
    run = f"(?P<run>(?:{plain}|{other}|{newline})+)"
    skeleton = re.compile(text[: m.start()] + run + text[m.end() - len("\n    |(?P<punct>") :],
                          re.S | re.X)  # fmt: skip
    found = (skeleton, re.compile(word), skeleton.groupindex)
    _SKELETONS[delimiter] = found
    return found


def scan(src: SourceFile, start: int, end: int) -> tuple[list[Statement], bool] | None:
    """The statements of the region ``src.text[start:end]`` as ``sqlscript.split`` gives them
    after ``lex_sql``, and whether the region ends complete (at a ``;`` delimiter, its last
    statement terminated); None when the caller must lex the region itself."""
    if src.plain is None:  # what is rare and costs a look at every character: once a file
        text = src.text
        src.plain = not (
            any(c in text for c in _ODD_ASCII_SPACES)
            # (a streamed file has no `source`/`use` line: load_streamed looked)
            or (not src.streamed and _FIRST_LINE_COMMAND.match(text))
            or (not src.streamed and _NEXT_LINE_COMMAND.search(text))
        )
    if not src.plain or end - start >= _LONG:
        return None
    text = src.text[start:end]
    if (
        "/*!" in text
        or "/*M!" in text
        or ("\\" in text and _BACKSLASH_COMMAND.search(text))
        or (start == 0 and text.startswith(BOM))
        or (not text.isascii() and _ODD_SPACE.search(text))
    ):
        return None  # lex_sql opens, blanks or reads these first
    try:
        return _scan(text, start)
    except _Unsure:
        return None


def lexes(text: str) -> bool:
    """Does ``lex_sql`` read all of ``text`` without a SplitError (no unterminated string,
    quoted name or comment)? False also when unsure: executable comments, client commands
    or bulk INSERT lines, which lex_sql rewrites first. At C speed, for deciding whether a
    script of middling size may be read region by region: a file the lexer rejects is then
    read whole, as before (one error, nothing else checked)."""
    if (
        "/*!" in text
        or "/*M!" in text
        or text.startswith(BOM)
        or _may_hold_commands(text)
        or _BULK_LINE.search(text)
    ):
        return False
    try:
        _scan(text, 0, routines=False)
    except _Unsure:
        return False
    return True


def _scan(sql: str, base: int, routines: bool = True) -> tuple[list[Statement], bool]:
    out: list[Statement] = []
    pos, n, line, line_start = 0, len(sql), 1, 0
    delimiter, last_directive = ";", ";"
    blank, first = True, True
    start = -1  # offset of the statement's first significant token
    s_line = s_col = stop = 0  # its line and column, and where its last token ends

    def flush(terminated: bool) -> None:
        nonlocal start
        if start >= 0:
            text = sql[start:stop]
            if delimiter == ";" and routines:
                up = text.upper()
                if "CREATE" in up or "ALTER" in up:
                    raise _Unsure  # maybe a routine: split() tracks its BEGIN/END depth
            out.append(Statement(text, start + base, s_line, s_col, delimiter, terminated))
        start = -1

    while pos < n:
        if blank:
            m = directive_after_blanks(sql, pos)
            if m:
                flush(False)
                delimiter = last_directive = m.group(1)
                pos = m.end()
                blank = False
                continue
        pattern, word, groups = _skeleton(delimiter)
        run_i, nl_i, punct_i, semi_i = groups["run"], groups["nl"], groups["punct"], groups["semi"]
        delim_i, comment_i = groups.get("delim", -1), groups["comment"]
        for m in pattern.finditer(sql, pos):
            i = m.lastindex
            pos, end = m.span(i)
            if i == nl_i:
                line += 1
                line_start = end
                first = True
                continue
            if i == run_i and first:
                w = word.match(sql, pos)
                if (
                    w is not None
                    and w.group().upper() == "DELIMITER"
                    and directive_after_blanks(sql, line_start)
                ):
                    end = line_start
                    break
            first = False
            if i == delim_i or (i == semi_i and delimiter == ";"):
                flush(True)
                continue
            if i == punct_i and (sql[pos] in "'\"`" or sql.startswith("/*", pos)):
                raise _Unsure  # unterminated: the lexer reports it
            if i != comment_i:
                if start < 0:
                    start, s_line, s_col = pos, line, pos - line_start + 1
                stop = end if i != run_i else pos + len(m.group(i).rstrip())
            if i != punct_i:
                nl = sql.count("\n", pos, end)  # a run, string, comment or name over lines
                if nl:
                    line += nl
                    line_start = sql.rfind("\n", pos, end) + 1
        else:
            break
        pos, blank = end, True
    flush(False)
    complete = last_directive == ";" and (not out or out[-1].terminated)
    return out, complete


def headers(pieces: list[Statement]) -> list[ParsedStatement]:
    """Statements with their words, their first tokens and their routine header (kind, name,
    parameters): all that Schema.apply reads from a statement that names no table."""
    out = []
    for st in pieces:
        toks, header, name = _head(st)
        ps = ParsedStatement(st, toks, [t.upper for t in toks[:8] if t.kind == "word"], header)
        if header is not None and header.kind in ROUTINE_KINDS:
            ps.routine = Routine(header.kind, header.name)
            if name is not None and header.kind in ("PROCEDURE", "FUNCTION"):
                params, _ = _params(toks, name + 1)
                ps.routine.params, ps.routine.param_count = set(params), len(params)
        out.append(ps)
    return out


def _head(st: Statement) -> tuple[list[Token], ObjectHeader | None, int | None]:
    """The significant tokens of the start of ``st``, enough for its header, its first words
    and a procedure's parameter list (the whole statement when that is all of it); the
    header read from them, and the index of its name token."""
    size = _HEAD
    while True:
        whole = size >= len(st.text)
        try:
            toks = tokenize(
                st.text[:size], st.delimiter, whitespace=False, base=st.offset,
                line=st.line, col=st.col,
            )  # fmt: skip
        except SplitError:  # cut inside a string or a comment
            if whole:  # pragma: no cover - the skeleton saw it terminated
                raise
            size *= 4
            continue
        toks = [t for t in toks if t.kind != "comment"]
        if not whole:
            toks.pop()  # maybe cut in the middle
        header, settled = read_header(st, toks)
        name = None
        if header is not None:
            at = st.offset + header.name_offset
            name = next((j for j, t in enumerate(toks) if t.offset == at), None)
        if whole or _enough(toks, header, settled, name):
            return toks, header, name
        size *= 4


def _enough(
    toks: list[Token], header: ObjectHeader | None, settled: bool, name: int | None
) -> bool:
    """Do these first tokens of a statement give what all of them would: the header, the
    first 8 words, the name a DROP PROCEDURE reads and a procedure's parameters?"""
    if len(toks) < 8:
        return False
    if toks[0].upper == "DROP" and not any(
        t.kind in ("word", "quoted") and t.upper not in _DROP_WORDS for t in toks[2:]
    ):
        return False  # Schema.apply reads the name of a DROP PROCEDURE from its tokens
    if not settled and len(toks) < HEADER_TOKENS:
        return False
    if header is None or header.kind not in ("PROCEDURE", "FUNCTION") or name is None:
        return True
    return _skip_group(toks, name + 1) < len(toks)
