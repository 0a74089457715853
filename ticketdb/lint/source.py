"""Read a SQL (or Python migration) file into statements, parse trees and routine bodies.

Split with :mod:`ticketdb.sqlscript` (the same splitter ``migrate`` uses), then hand each
statement to sqlglot's MySQL dialect. Where sqlglot gives up on valid MySQL/MariaDB syntax the
text is adjusted *without moving any character* (words blanked with spaces), so every node's
position still points into the original file: partition clauses, ``IGNORED`` index flags,
``SELECT … INTO var``, ``REPLACE INTO``, MariaDB's ``IF [NOT] EXISTS`` in ALTER actions.
Routine bodies go through :mod:`ticketdb.lint.body`. Whatever still cannot be parsed becomes a
parse error with a position (rule TDB000), never an exception and never a silent skip.
"""

from __future__ import annotations

import ast
import bisect
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from ticketdb.sqlscript import (
    ObjectHeader,
    SplitError,
    Statement,
    Token,
    create_header,
    split,
    tokenize,
)

logging.getLogger("sqlglot").setLevel(logging.ERROR)

ROUTINE_KINDS = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}

#: Statements sqlglot cannot (or need not) parse, accepted as they are. Their references are
#: not checked; everything else that fails to parse is reported.
OPAQUE_STARTS = {
    "LOCK", "UNLOCK", "LOAD", "DO", "DEALLOCATE", "SIGNAL", "RESIGNAL", "HANDLER", "XA",
    "FLUSH", "ANALYZE", "OPTIMIZE", "CHECK", "REPAIR", "CHECKSUM", "GRANT", "REVOKE", "SHOW",
    "PURGE", "RESET", "START", "STOP", "INSTALL", "UNINSTALL", "KILL", "SHUTDOWN", "BINLOG",
    "CACHE", "HELP", "SAVEPOINT", "RELEASE", "ITERATE", "LEAVE", "OPEN", "CLOSE", "FETCH",
    "GET", "EXECUTE", "PREPARE", "CALL", "RENAME", "CHANGE", "BACKUP", "DESCRIBE", "DESC",
    "EXPLAIN", "USE", "SET",
}  # fmt: skip
#: ALTER TABLE actions that change no column or index (partition maintenance, options).
OPAQUE_ALTER_ACTIONS = {
    "PARTITION", "ADD PARTITION", "DROP PARTITION", "REORGANIZE", "COALESCE", "EXCHANGE",
    "TRUNCATE", "REBUILD", "REPAIR", "OPTIMIZE", "ANALYZE", "CHECK", "REMOVE", "DISCARD",
    "IMPORT", "CONVERT", "FORCE", "ORDER", "DISABLE", "ENABLE", "ALGORITHM", "LOCK", "ENGINE",
    "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "AUTO_INCREMENT", "COMMENT", "ROW_FORMAT",
    "KEY_BLOCK_SIZE", "STATS_PERSISTENT", "STATS_AUTO_RECALC", "STATS_SAMPLE_PAGES",
    "AVG_ROW_LENGTH", "MAX_ROWS", "MIN_ROWS", "PACK_KEYS", "CHECKSUM", "COMPRESSION",
    "ENCRYPTION", "TABLESPACE", "WITH", "WITHOUT", "ADD SYSTEM", "DROP SYSTEM",
}  # fmt: skip
_VERSION_COMMENT = re.compile(r"/\*M?!\d*")
_DML_MODIFIERS = {"LOW_PRIORITY", "HIGH_PRIORITY", "DELAYED", "QUICK", "IGNORE"}
_SELECT_INTO_STOP = {
    "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "FOR", "LOCK", "UNION", "WINDOW",
    "INTO",
}  # fmt: skip


@dataclass
class Unit:
    """A piece handed to sqlglot: a statement, or an expression fragment of a routine body
    (IF/WHILE condition, RETURN value) parsed as ``SELECT <expr>``."""

    text: str  # what sqlglot saw (after the prefix): same length as the source slice
    offset: int  # file offset of text[0]
    tree: exp.Expression | None = None
    error: tuple[int, str] | None = None  # (file offset, message)
    prefix: int = 0  # characters prepended before parsing
    expression: bool = False

    def offset_of(self, node: exp.Expression) -> int:
        """File offset of a node: its own position, else its leftmost positioned descendant
        (``OLD.note`` points at ``OLD``)."""
        start = node.meta.get("start") if node.meta else None
        if start is None:
            starts = [
                c.meta["start"] for c in node.walk() if c.meta and c.meta.get("start") is not None
            ]
            start = min(starts) if starts else None
        if start is None:
            return self.offset
        return self.offset + max(0, start - self.prefix)


@dataclass
class Partitioning:
    kind: str  # RANGE | LIST | HASH | KEY
    columns: list[str]  # identifiers in the partitioning expression; [] for KEY() = the PK
    offset: int


@dataclass
class Routine:
    kind: str
    name: str
    table: str | None = None  # a trigger's table
    event: str | None = None  # INSERT | UPDATE | DELETE for triggers
    timing: str | None = None  # BEFORE | AFTER for triggers
    param_count: int = 0
    params: set[str] = field(default_factory=set)
    variables: set[str] = field(default_factory=set)
    body_offset: int = 0
    nested: list[ParsedStatement] = field(default_factory=list)  # DDL inside the body


@dataclass
class ParsedStatement:
    stmt: Statement
    tokens: list[Token]  # significant tokens; offsets are file offsets
    words: list[str]  # first words, upper case
    header: ObjectHeader | None = None
    tree: exp.Expression | None = None  # whole statement (None for routines and opaque ones)
    units: list[Unit] = field(default_factory=list)
    routine: Routine | None = None
    partitioning: Partitioning | None = None
    renames: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    remove_partitioning: bool = False
    view_columns: list[str] | None = None  # CREATE VIEW v (a, b) AS …

    @property
    def offset(self) -> int:
        return self.stmt.offset

    @property
    def text(self) -> str:
        return self.stmt.text

    def startswith(self, *words: str) -> bool:
        return self.words[: len(words)] == list(words)


@dataclass
class SourceFile:
    path: Path
    display: str  # path as printed in findings
    text: str
    role: str  # migration | rollback | object | script
    statements: list[ParsedStatement] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    py_steps: list[tuple[int, bool]] = field(default_factory=list)  # (offset, has_rollback)
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def position(self, offset: int) -> tuple[int, int]:
        if not self._line_starts:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        i = bisect.bisect_right(self._line_starts, offset) - 1
        return i + 1, offset - self._line_starts[i] + 1

    def offset_at(self, line: int, col: int = 1) -> int:
        self.position(0)
        line = max(1, min(line, len(self._line_starts)))
        return self._line_starts[line - 1] + col - 1


def role_of(path: Path) -> str:
    if path.name.endswith(".rollback.sql"):
        return "rollback"
    if path.parent.name == "migrations":
        return "migration"
    if path.parent.name in ("procedures", "triggers", "events"):
        return "object"
    return "script"


def load(path: Path, display: str, text: str | None = None) -> SourceFile:
    """Read and parse one file; never raises for bad SQL (errors are kept with offsets)."""
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    src = SourceFile(path, display, text, role_of(path))
    if path.suffix == ".py":
        _load_python(src)
        return src
    _load_sql(src, text, 0)
    return src


def _load_sql(src: SourceFile, text: str, base: int) -> None:
    """Parse ``text`` (which starts at file offset ``base``) into ``src.statements``."""
    try:
        expanded = expand_version_comments(text)
        statements = split(expanded)
    except SplitError as exc:
        src.errors.append((base + _offset_at(text, exc.line, exc.col), str(exc)))
        return
    for st in statements:
        if base:
            st = Statement(st.text, st.offset + base, 0, 0, st.delimiter, st.terminated)
        src.statements.append(parse_statement(st))


def _offset_at(text: str, line: int, col: int) -> int:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return starts[max(0, min(line, len(starts)) - 1)] + max(0, col - 1)


def expand_version_comments(text: str) -> str:
    """Turn mysqldump's executable comments into plain text, keeping every offset: whole
    statements (``/*!50003 CREATE*/ … TRIGGER …*/``, views, SET lines) and, inside a statement,
    pre-8.0 clauses such as ``/*!50100 PARTITION BY …*/``. A MySQL 8 comment inside a statement
    (``/*!80003 SRID 0 */``) stays a comment (the portability rule reports it)."""
    if "/*!" not in text and "/*M!" not in text:
        return text
    chars = list(text)
    at_start, expanding = True, False
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
                for k in range(tok.offset, tok.offset + m.end()):
                    chars[k] = " "
                if tok.text.endswith("*/"):
                    end = tok.offset + len(tok.text)
                    chars[end - 2] = chars[end - 1] = " "
                expanding = expanding or at_start
            continue
        if tok.kind in ("delim", "directive"):
            at_start, expanding = True, False
            continue
        at_start = False
    return "".join(chars)


def _significant(text: str, base: int) -> list[Token]:
    return [
        Token(t.kind, t.text, t.offset + base, t.line, t.col)
        for t in tokenize(text)
        if t.kind not in ("ws", "comment")
    ]


_BIG_INSERT = 20_000
_INSERT_START = re.compile(r"\s*(INSERT|REPLACE)\b", re.IGNORECASE)
_INSERT_TAIL = re.compile(r"ON\s+DUPLICATE|RETURNING", re.IGNORECASE)
_VALUES = re.compile(r"\bVALUES?\b", re.IGNORECASE)


def _first_row_only(st: Statement) -> Statement:
    """A data dump's multi-row INSERT (mysqldump writes MBs per statement): keep the text up to
    the end of the first row. Offsets before the cut do not move, and names are all there."""
    if len(st.text) < _BIG_INSERT or not _INSERT_START.match(st.text):
        return st
    if _INSERT_TAIL.search(st.text, len(st.text) - 4000):
        return st
    m = _VALUES.search(st.text)
    if m is None:
        return st
    # try each ")" after VALUES as the end of the first row: lex only that short prefix
    pos = m.end()
    for _ in range(200):
        pos = st.text.find(")", pos)
        if pos < 0:
            return st
        pos += 1
        try:
            toks = tokenize(st.text[m.end() : pos])
        except SplitError:  # this ")" is inside a string
            continue
        depth = 0
        for t in toks:
            depth += (t.text == "(") - (t.text == ")")
        if depth == 0 and any(t.text == "(" for t in toks):
            return Statement(st.text[:pos], st.offset, st.line, st.col, st.delimiter)
    return st


def parse_statement(st: Statement) -> ParsedStatement:
    st = _first_row_only(st)
    try:
        toks = _significant(st.text, st.offset)
    except SplitError as exc:  # pragma: no cover - split() already lexed this text
        ps = ParsedStatement(st, [], [])
        ps.errors.append((st.offset, str(exc)))
        return ps
    words = [t.upper for t in toks[:8] if t.kind == "word"]
    ps = ParsedStatement(st, toks, words, header=create_header(st.text))
    try:
        _parse_into(ps)
    except Exception as exc:  # a linter bug must become a finding, not a traceback
        ps.errors.append((st.offset, f"internal error while parsing: {exc!r}"))
    return ps


def _parse_into(ps: ParsedStatement) -> None:
    from ticketdb.lint import body

    h = ps.header
    if h and h.kind in ROUTINE_KINDS:
        ps.routine, ps.units, errors = body.parse_routine(ps)
        ps.errors.extend(errors)
        return
    first = ps.words[0] if ps.words else ""
    if first == "RENAME":
        ps.renames = _renames(ps.tokens)
        return
    if first in OPAQUE_STARTS:
        return
    if first == "CREATE" and (h is None or h.kind not in ("TABLE", "VIEW", "INDEX")):
        return  # CREATE USER/ROLE/SERVER/DATABASE/SEQUENCE…: nothing the model tracks
    if first == "DROP" and _drop_kind(ps.words) not in ("TABLE", "VIEW", "INDEX"):
        return  # DROP USER/EVENT/TRIGGER/PROCEDURE…
    if h and h.kind == "TABLE":
        _parse_create_table(ps)
        return
    if first == "ALTER":
        words = [w for w in ps.words[1:3] if w not in ("ONLINE", "OFFLINE", "IGNORE")]
        if words[:1] == ["TABLE"]:
            _parse_alter_table(ps)
        elif "VIEW" in ps.words:
            _parse_view(ps, alter=True)
        return  # ALTER DATABASE/EVENT/PROCEDURE/USER…: nothing the model tracks
    if h and h.kind == "VIEW":
        _parse_view(ps)
        return
    unit = parse_unit(ps.text, ps.offset, ps.tokens)
    if h and h.kind == "INDEX" and (unit.error or isinstance(unit.tree, exp.Command)):
        # index options sqlglot rejects (ALGORITHM=…, LOCK=…): keep up to the key parts
        open_i = next((i for i, t in enumerate(ps.tokens) if t.text == "("), None)
        if open_i is not None:
            close = ps.tokens[_matching_paren(ps.tokens, open_i)]
            chars = list(ps.text)
            _blank(chars, close.offset - ps.offset + 1, len(chars))
            retry = parse_unit("".join(chars), ps.offset, ps.tokens)
            if retry.tree is not None and not isinstance(retry.tree, exp.Command):
                unit = retry
    _accept(ps, unit)


def _drop_kind(words: list[str]) -> str:
    rest = [w for w in words[1:3] if w != "TEMPORARY"]
    return rest[0] if rest else ""


def _parse_view(ps: ParsedStatement, alter: bool = False) -> None:
    """CREATE/ALTER VIEW: an explicit column list and WITH … CHECK OPTION are blanked for
    sqlglot (the list is kept as the view's column names); ALTER is parsed as CREATE."""
    toks, base = ps.tokens, ps.offset
    chars = list(ps.text)
    try:
        v = next(i for i, t in enumerate(toks) if t.upper == "VIEW")
    except StopIteration:
        return
    name_i = v + 1
    if name_i + 2 < len(toks) and toks[name_i + 1].text == ".":
        name_i += 2
    if name_i + 1 < len(toks) and toks[name_i + 1].text == "(":
        end = _matching_paren(toks, name_i + 1)
        ps.view_columns = [ident(t.text) for t in toks[name_i + 2 : end] if t.text != ","]
        _blank(chars, toks[name_i + 1].offset - base, toks[end].offset - base + 1)
    for i in range(len(toks) - 1, 0, -1):
        if toks[i].upper == "OPTION" and toks[i - 1].upper == "CHECK":
            j = i - 2
            if toks[j].upper in ("CASCADED", "LOCAL"):
                j -= 1
            if toks[j].upper == "WITH":
                _blank(chars, toks[j].offset - base, len(chars))
            break
    text = "".join(chars)
    if alter:  # ALTER VIEW … = CREATE OR REPLACE VIEW …; one character longer, hence base - 1
        text = "CREATE" + text[len(toks[0].text) :]
        unit = parse_unit(text, base - 1, [])
    else:
        unit = parse_unit(text, base, toks)
    _accept(ps, unit)


def _accept(ps: ParsedStatement, unit: Unit) -> None:
    ps.units.append(unit)
    if unit.error:
        ps.errors.append(unit.error)
    elif isinstance(unit.tree, exp.Command):
        ps.errors.append((unit.offset, f"cannot parse {ps.words[0] if ps.words else ''} statement"))
        unit.tree = None
    else:
        ps.tree = unit.tree


def _renames(toks: list[Token]) -> list[tuple[str, str]]:
    names: list[str] = []
    out: list[tuple[str, str]] = []
    for t in toks[2:]:
        if t.kind in ("word", "quoted") and t.upper != "TO":
            names.append(ident(t.text))
        elif t.text == ",":
            if len(names) >= 2:
                out.append((names[0], names[-1]))
            names = []
    if len(names) >= 2:
        out.append((names[0], names[-1]))
    return out


def ident(text: str) -> str:
    if text.startswith("`") and text.endswith("`"):
        return text[1:-1].replace("``", "`")
    return text


def _blank(chars: list[str], start: int, end: int) -> None:
    for k in range(max(0, start), min(end, len(chars))):
        if chars[k] not in "\n":
            chars[k] = " "


def normalize(text: str, base: int, toks: list[Token]) -> str:
    """Blank what sqlglot's MySQL dialect rejects in valid MySQL/MariaDB, keeping offsets.
    ``toks`` are the significant tokens of ``text`` with file offsets (``base`` = text[0])."""
    chars = list(text)
    words = [t.upper for t in toks if t.kind == "word"]
    if words[:1] == ["REPLACE"]:
        o = toks[0].offset - base
        chars[o : o + 7] = list("INSERT ")
    if words[:1] in (["UPDATE"], ["DELETE"], ["INSERT"], ["REPLACE"]):
        for t in toks[1:4]:  # UPDATE LOW_PRIORITY IGNORE …, DELETE QUICK …: no effect on names
            if t.kind != "word" or t.upper not in _DML_MODIFIERS:
                break
            _blank(chars, t.offset - base, t.offset - base + len(t.text))
    prev: Token | None = None
    for i, t in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if (
            t.text == ":"
            and nxt is not None
            and nxt.kind == "word"
            and nxt.offset == t.offset + 1
            and (prev is None or prev.offset + len(prev.text) < t.offset or prev.kind == "punct")
        ):
            # a bind parameter (:from, :ticket_id) as the app's query files write them
            o = t.offset - base
            chars[o] = "?"
            _blank(chars, o + 1, o + 1 + len(nxt.text))
        if t.kind == "word" and t.upper == "IGNORED":
            _blank(chars, t.offset - base, t.offset - base + len(t.text))
            if prev is not None and prev.upper == "NOT":
                _blank(chars, prev.offset - base, prev.offset - base + len(prev.text))
        prev = t
    if words[:1] in (["SELECT"], ["WITH"]):
        _blank_select_into(chars, base, toks)
    return "".join(chars)


def _blank_select_into(chars: list[str], base: int, toks: list[Token]) -> None:
    depth = 0
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        elif depth == 0 and t.kind == "word" and t.upper == "INTO":
            j = i + 1
            if j < len(toks) and toks[j].upper in ("OUTFILE", "DUMPFILE"):
                j += 2  # … and its FIELDS/LINES/CHARACTER SET export options
                while j < len(toks) and not (
                    toks[j].kind == "word" and toks[j].upper in _SELECT_INTO_STOP
                ):
                    j += 1
            else:
                while j < len(toks):
                    u = toks[j]
                    if u.kind == "word" and u.upper in _SELECT_INTO_STOP:
                        break
                    if u.kind not in ("word", "quoted") and u.text not in ("@", ",", "."):
                        break
                    j += 1
            end = toks[j - 1].offset + len(toks[j - 1].text)
            _blank(chars, t.offset - base, end - base)
            i = j
            continue
        i += 1


def parse_unit(
    text: str, offset: int, toks: list[Token], *, expression: bool = False, prefix: str = ""
) -> Unit:
    """Parse one piece of SQL with sqlglot; errors come back with file offsets."""
    norm = normalize(text, offset, toks) if not expression else text
    unit = Unit(text, offset, prefix=len(prefix), expression=expression)
    try:
        trees = [t for t in sqlglot.parse(prefix + norm, read="mysql") if t is not None]
    except ParseError as exc:
        unit.error = (_error_offset(exc, prefix + norm, offset, len(prefix)), _message(exc))
        return unit
    except SqlglotError as exc:
        unit.error = (offset, f"cannot parse: {str(exc).splitlines()[0]}")
        return unit
    if len(trees) != 1:
        unit.error = (offset, "cannot parse statement")
        return unit
    unit.tree = trees[0]
    if isinstance(unit.tree, exp.Update) and not unit.tree.expressions:
        unit.tree, unit.error = None, (offset, "cannot parse: UPDATE without SET assignments")
    return unit


def _message(exc: ParseError) -> str:
    err = exc.errors[0] if exc.errors else {}
    desc = err.get("description") or str(exc).splitlines()[0]
    near = (err.get("highlight") or "").strip()
    return f"cannot parse: {desc}" + (f" near {near!r}" if near else "")


def _error_offset(exc: ParseError, text: str, base: int, prefix: int) -> int:
    err = exc.errors[0] if exc.errors else {}
    line, col = err.get("line"), err.get("col")
    if not line or not col:
        return base
    o = _offset_at(text, line, col)
    o -= max(0, len(err.get("highlight") or "") - 1)
    return base + max(0, min(o, len(text)) - prefix)


def _matching_paren(toks: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _parse_create_table(ps: ParsedStatement) -> None:
    toks, base = ps.tokens, ps.offset
    chars = list(ps.text)
    # the column list: first "(" at depth 0 (absent for CREATE TABLE … LIKE / AS SELECT)
    open_i = next((i for i, t in enumerate(toks) if t.text == "("), None)
    close_i = _matching_paren(toks, open_i) if open_i is not None else None
    options_from = close_i + 1 if close_i is not None else len(toks)
    for i in range(options_from, len(toks) - 1):
        if toks[i].upper == "PARTITION" and toks[i + 1].upper == "BY":
            ps.partitioning = _partitioning(toks, i)
            _blank(chars, toks[i].offset - base, len(chars))
            break
    text = "".join(chars)
    unit = parse_unit(text, base, toks)
    if (unit.error or isinstance(unit.tree, exp.Command)) and close_i is not None:
        # unknown table options (WITH SYSTEM VERSIONING, …): keep the column list only
        retry_chars = list(text)
        _blank(retry_chars, toks[close_i].offset - base + 1, len(chars))
        retry = parse_unit("".join(retry_chars), base, toks)
        if retry.tree is not None and not isinstance(retry.tree, exp.Command):
            unit = retry
    _accept(ps, unit)


def _partitioning(toks: list[Token], i: int) -> Partitioning:
    j = i + 2
    if j < len(toks) and toks[j].upper == "LINEAR":
        j += 1
    kind = toks[j].upper if j < len(toks) else "?"
    j += 1
    if j < len(toks) and toks[j].upper == "COLUMNS":
        j += 1
    cols: list[str] = []
    if j < len(toks) and toks[j].text == "(":
        end = _matching_paren(toks, j)
        for k in range(j + 1, end):
            t = toks[k]
            if t.kind in ("word", "quoted") and toks[k + 1].text != "(":
                cols.append(ident(t.text))
    return Partitioning(kind, cols, toks[i].offset)


def _parse_alter_table(ps: ParsedStatement) -> None:
    toks, base = ps.tokens, ps.offset
    unit = parse_unit(ps.text, base, toks)
    if (
        unit.tree is not None
        and not isinstance(unit.tree, exp.Command)
        and not _has_if_exists(toks)
    ):
        _accept(ps, unit)
        return
    # one action at a time: the other actions blanked out, so offsets stay true
    name_end = 3 if ps.words[1] == "TABLE" else 4
    if name_end + 1 < len(toks) and toks[name_end].text == ".":
        name_end += 2
    head = toks[:name_end]
    actions: list[list[Token]] = [[]]
    depth = 0
    for t in toks[name_end:]:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        if t.text == "," and depth == 0:
            actions.append([])
        else:
            actions[-1].append(t)
    merged: exp.Alter | None = None
    for action in actions:
        if not action:
            continue
        aw = [t.upper for t in action[:3]]
        if aw[:2] == ["PARTITION", "BY"]:
            ps.partitioning = _partitioning(action, 0)
            continue
        if aw[:2] == ["REMOVE", "PARTITIONING"]:
            ps.remove_partitioning = True
            continue
        if aw[0] in OPAQUE_ALTER_ACTIONS or " ".join(aw[:2]) in OPAQUE_ALTER_ACTIONS:
            continue
        for piece in _column_group(action):
            chars = [" " if c != "\n" else c for c in ps.text]
            keep = [*head, *piece]
            for t in keep:
                o = t.offset - base
                chars[o : o + len(t.text)] = list(t.text)
            _blank_if_exists(chars, base, piece)
            part = parse_unit("".join(chars), base, keep)
            if part.error or not isinstance(part.tree, exp.Alter):
                ps.errors.append(part.error or (piece[0].offset, "cannot parse ALTER TABLE action"))
                continue
            if merged is None:
                merged = part.tree
            else:
                for a in part.tree.args.get("actions") or []:
                    merged.append("actions", a)
    unit = Unit(ps.text, base, tree=merged)
    ps.units.append(unit)
    ps.tree = merged


def _column_group(action: list[Token]) -> list[list[Token]]:
    """``ADD [COLUMN] (a INT, b INT)`` becomes ``ADD [COLUMN] a INT`` and ``… b INT``."""
    k = 2 if len(action) > 2 and action[1].upper == "COLUMN" else 1
    if action[0].upper != "ADD" or len(action) <= k or action[k].text != "(":
        return [action]
    inner = action[k + 1 : -1] if action[-1].text == ")" else action[k + 1 :]
    pieces: list[list[Token]] = [[]]
    depth = 0
    for t in inner:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        if t.text == "," and depth == 0:
            pieces.append([])
        else:
            pieces[-1].append(t)
    return [[*action[:k], *p] for p in pieces if p]


def _has_if_exists(toks: list[Token]) -> bool:
    return any(
        t.upper == "IF" and toks[i + 1].upper in ("EXISTS", "NOT")
        for i, t in enumerate(toks[:-1])
        if i > 3
    )


def _blank_if_exists(chars: list[str], base: int, action: list[Token]) -> None:
    for i, t in enumerate(action[:-1]):
        if t.upper == "IF" and action[i + 1].upper in ("EXISTS", "NOT"):
            end = i + (3 if action[i + 1].upper == "NOT" else 2)
            last = action[min(end, len(action)) - 1]
            _blank(chars, t.offset - base, last.offset - base + len(last.text))


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
