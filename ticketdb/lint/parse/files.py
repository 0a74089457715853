"""Read a SQL file (or a yoyo Python migration) into parsed statements.

Split with :mod:`ticketdb.sqlscript` (the same splitter ``migrate`` uses) after mysqldump's
executable comments are opened up in place; each statement then goes to
:func:`ticketdb.lint.parse.statement.parse_statement`.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path

from ticketdb.lint.parse.client import ClientCommands, strip_client_commands
from ticketdb.lint.parse.model import ParsedStatement, SourceFile
from ticketdb.lint.parse.statement import first_row_end, parse_statement
from ticketdb.lint.parse.unit import offset_at
from ticketdb.lint.parse.words import ROUTINE_KINDS
from ticketdb.sqlscript import SplitError, Statement, Token, create_header, split, tokenize

_VERSION_COMMENT = re.compile(r"/\*M?!\d*")
_TEXT = itemgetter(1)  # Token.text


def role_of(path: Path, object_dirs: set[Path] | None = None) -> str:
    """migration | rollback | object | query | script. ``object_dirs`` are the project's
    procedures/, triggers/ and events/ (resolved): a third-party folder that happens to be called
    ``procedures/`` is not held to the one-object-per-file layout. A query (queries/*.sql) is one
    statement the app or the bench runs in a session, not a step that builds the schema."""
    if path.name.endswith(".rollback.sql"):
        return "rollback"
    if path.parent.name == "migrations":
        return "migration"
    if path.parent.name == "queries":
        return "query"
    if object_dirs is None:
        in_object_dir = path.parent.name in ("procedures", "triggers", "events")
    else:
        in_object_dir = path.parent.resolve() in object_dirs
    return "object" if in_object_dir else "script"


def load(
    path: Path, display: str, text: str | None = None, *, role: str | None = None
) -> SourceFile:
    """Read and parse one file; never raises for bad SQL (errors are kept with offsets).
    A file that is not valid UTF-8 is an error: the server would read other characters."""
    bad_utf8: tuple[int, str] | None = None
    if text is None:
        text, bad_utf8 = _read_utf8(path, display)
    src = SourceFile(path, display, text, role or role_of(path))
    if bad_utf8 is not None:
        src.errors.append(bad_utf8)
        return src
    if path.suffix == ".py":
        _load_python(src)
        return src
    _load_sql(src, text, 0)
    return src


def _read_utf8(path: Path, display: str) -> tuple[str, tuple[int, str] | None]:
    """The file's text, and (offset, message) when it is not valid UTF-8 (the bytes are
    dropped on return: a dump is read once, not kept twice)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        at = len(raw[: exc.start].decode("utf-8", errors="replace"))
        message = (
            f"{display} is not valid UTF-8 (byte 0x{raw[exc.start]:02x}): "
            "save it as UTF-8; nothing in it was checked"
        )
        return raw.decode("utf-8", errors="replace"), (at, message)


def _load_sql(src: SourceFile, text: str, base: int) -> None:
    """Parse ``text`` (which starts at file offset ``base``) into ``src.statements``."""
    try:
        lexed = lex_sql(text)
    except SplitError as exc:
        src.errors.append((base + offset_at(text, exc.line, exc.col), str(exc)))
        return
    _, tokens, statements, commands = lexed
    src.notes.extend((base + at, note) for at, note in commands.notes)
    src.uses.extend(commands.uses)
    src.sources.extend((base + at, name) for at, name in commands.sources)
    src.statements.extend(parse_lexed(tokens, statements, base))


def lex_sql(text: str, base: int = 0) -> tuple[str, list[Token], list[Statement], ClientCommands]:
    """Open up ``text`` (bulk rows blanked, client commands blanked, executable comments
    opened, offsets kept), lex it once and split it: (text, tokens, statements, commands).
    ``base``: the file offset of ``text`` (a streamed region), added to the offsets of the
    tokens and statements (not to those of ``commands``)."""
    text = blank_bulk_rows(text)
    commands = strip_client_commands(text)
    expanded = expand_version_comments(commands.text)
    tokens = tokenize(expanded, directives=True, whitespace=False, base=base)
    return expanded, tokens, split(expanded, tokens, base), commands


def parse_lexed(
    tokens: list[Token], statements: list[Statement], base: int, *, shift: bool = False
) -> Iterator[ParsedStatement]:
    """Parse the statements of a lexed text that starts at file offset ``base``. ``shift``:
    the tokens and statements were lexed with ``base`` (file offsets already: a streamed
    region); without it a ``base`` statement is lexed again (a Python migration's string)."""
    # the file is lexed once: each statement takes its slice of the significant tokens (a ";"
    # inside a DELIMITER block ends a statement of that block's body)
    sig = [t for t in tokens if t.kind not in ("ws", "comment", "directive")]
    starts = [t.offset for t in sig]
    for st in statements:
        lo = bisect.bisect_left(starts, st.offset)
        hi = bisect.bisect_left(starts, st.offset + len(st.text))
        pieces = _statements_of_chunk(st, sig[lo:hi])
        if (base and not shift) or len(pieces) > 1:
            for piece in pieces:
                if base:
                    at = piece.offset if shift else piece.offset + base
                    piece = Statement(piece.text, at, 0, 0, piece.delimiter)
                yield parse_statement(piece)
            continue
        toks = sig[lo:hi]
        if ";" in st.text:  # a ";" inside a DELIMITER block ends a statement of the body
            toks = _semicolons_as_delims(toks)
        yield parse_statement(st, toks)


def _semicolons_as_delims(toks: list[Token]) -> list[Token]:
    """``toks`` with each ";" punctuation token made a delimiter: only those are looked at
    (found by C-level list searches, not a Python turn per token of a routine body)."""
    texts = list(map(_TEXT, toks))
    out: list[Token] | None = None
    i = -1
    try:
        while True:
            i = texts.index(";", i + 1)
            t = toks[i]
            if t[0] == "punct":
                out = out if out is not None else list(toks)
                out[i] = tuple.__new__(Token, ("delim", *t[1:]))
    except ValueError:
        pass
    return out if out is not None else toks


_BULK_LINE = re.compile(r"^[ \t]*(?:INSERT|REPLACE)\b[^\n]{20000,}$", re.MULTILINE | re.IGNORECASE)


_NEXT_STATEMENT = re.compile(
    r";\s*(?:INSERT|REPLACE|CREATE|ALTER|DROP|UPDATE|DELETE|SET|LOCK|UNLOCK|SELECT|CALL)\b",
    re.IGNORECASE,
)


def blank_bulk_rows(text: str) -> str:
    """mysqldump's extended INSERT lines (MBs each): every row after the first is blanked
    with spaces before anything lexes the file, keeping every offset. The names are all in
    the first row's statement, and millions of tokens for the data are never made."""
    if len(text) < 20_000:
        return text
    pieces: list[str] = []
    done = 0
    for m in _BULK_LINE.finditer(text):
        line = m.group(0).rstrip()
        if not line.endswith(";"):
            continue
        body = line[:-1]
        start = len(line) - len(line.lstrip())
        end = first_row_end(body[start:])
        if end is None or not body[start + end :].lstrip().startswith(","):
            continue
        cut, stop = m.start() + start + end, m.start() + len(body)
        if _NEXT_STATEMENT.search(text, cut, stop):
            continue  # maybe another statement on the same line: read it all, slowly
        pieces += [text[done:cut], " " * (stop - cut)]
        done = stop
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


_CREATE_KINDS = ROUTINE_KINDS | {"VIEW", "TABLE", "INDEX", "DATABASE", "SCHEMA"}


def _statements_of_chunk(st: Statement, toks: list[Token] | None = None) -> list[Statement]:
    """Under ``DELIMITER //`` one chunk may hold several statements (``DROP TRIGGER …;
    CREATE TRIGGER … //``): the client sends them together and the server runs each. Split
    such a chunk unless it is itself a routine definition, whose body holds the ``;``.
    ``toks``: the chunk's significant tokens, when known (the header is read from them)."""
    if st.delimiter == ";" or ";" not in st.text:
        return [st]
    if toks is not None:
        kind = None
        if toks and toks[0].upper == "CREATE":
            kind = next((t.upper for t in toks[1:16] if t.upper in _CREATE_KINDS), None)
        if kind in ROUTINE_KINDS:
            return [st]
    else:
        try:  # the header is in the first words; lexing a long body for it costs
            header = create_header(st.text[:600])
        except SplitError:  # cut inside a string or comment
            header = create_header(st.text)
        if header is not None and header.kind in ROUTINE_KINDS:
            return [st]
    try:
        pieces = split(st.text)
    except SplitError:
        return [st]
    if len(pieces) < 2:
        return [st]
    return [Statement(p.text, st.offset + p.offset, st.line, st.col, st.delimiter) for p in pieces]


_IN_COMMENT = re.compile(
    r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`(?:[^`]|``)*`|(?P<close>\*/)""", re.S
)


def _open_comments_with_strings(text: str) -> str:
    """An executable comment whose code holds a string with ``*/`` (a view's
    ``concat('/* ', x, ' */')``) ends at the server's end, not at the first ``*/``: such
    comments are opened here, string-aware; the usual ones are left to the token walk."""
    chars: list[str] | None = None
    pos = 0
    while True:
        start = text.find("/*", pos)
        if start < 0:
            break
        m = _VERSION_COMMENT.match(text, start)
        naive_end = text.find("*/", start + 2)
        if m is None or m.end() == start + 2 or naive_end < 0:
            pos = start + 2 if naive_end < 0 else naive_end + 2
            continue
        inside = text[m.end() : naive_end]
        if inside.count("'") % 2 == 0 and inside.count('"') % 2 == 0:
            pos = naive_end + 2
            continue
        close = None
        for tok in _IN_COMMENT.finditer(text, m.end()):
            if tok.group("close"):
                close = tok.start()
                break
        if close is None:
            pos = naive_end + 2
            continue
        chars = chars if chars is not None else list(text)
        for k in [*range(start, m.end()), close, close + 1]:
            chars[k] = " "
        pos = close + 2
    return "".join(chars) if chars is not None else text


def expand_version_comments(text: str) -> str:
    """Turn mysqldump's executable comments into plain text, keeping every offset: whole
    statements (``/*!50003 CREATE*/ … TRIGGER …*/``, views, SET lines) and, inside a statement,
    pre-8.0 clauses such as ``/*!50100 PARTITION BY …*/``. A MySQL 8 comment inside a statement
    (``/*!80003 SRID 0 */``) stays a comment (the portability rule reports it)."""
    if "/*!" not in text and "/*M!" not in text:
        return text
    text = _open_comments_with_strings(text)
    spans: list[tuple[int, int]] = []  # (start, end) to blank; a list of chars would cost
    at_start, expanding = True, False  # 8 bytes per character of a dump
    for tok in tokenize(text, directives=True):
        if tok.kind == "ws":
            continue
        if tok.kind == "comment":
            m = _VERSION_COMMENT.match(tok.text)
            digits = m.group(0).lstrip("/*M!") if m else ""
            old = not digits or int(digits) < 80000
            if (
                m
                and (at_start or expanding or old)
                and not tok.text[m.end() :].lstrip().startswith("\\")
            ):
                spans.append((tok.offset, tok.offset + m.end()))
                if tok.text.endswith("*/"):
                    end = tok.offset + len(tok.text)
                    spans.append((end - 2, end))
                expanding = expanding or at_start
            continue
        if tok.kind in ("delim", "directive"):
            at_start, expanding = True, False
            continue
        at_start = False
    pieces: list[str] = []
    done = 0
    for start, end in spans:
        pieces += [text[done:start], " " * (end - start)]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _load_python(src: SourceFile) -> None:
    """A yoyo Python migration: lint the SQL strings of its ``step(apply, rollback)`` calls and
    remember whether each step has a rollback."""
    try:
        tree = ast.parse(src.text)
    except SyntaxError as exc:
        src.errors.append((src.offset_at(exc.lineno or 1, exc.offset or 1), f"Python: {exc.msg}"))
        return
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "step"):
            continue
        offset = src.offset_at(node.lineno, node.col_offset + 1)
        rollback = len(node.args) >= 2 or any(k.arg == "rollback" for k in node.keywords)
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            rollback = bool(str(node.args[1].value).strip())
        src.py_steps.append((offset, rollback))
        apply_arg = node.args[0] if node.args else None
        if isinstance(apply_arg, ast.Constant) and isinstance(apply_arg.value, str):
            start = src.offset_at(apply_arg.lineno, apply_arg.col_offset + 1)
            m = re.match(r"[rRbBuU]*('''|\"\"\"|'|\")", src.text[start:])
            content_at = start + (m.end() if m else 0)
            sql = apply_arg.value
            if src.text[content_at : content_at + len(sql)] != sql:
                content_at = start  # escapes moved things: report at the string's start
            _load_sql(src, sql, content_at)
