"""Hand one piece of SQL to sqlglot without moving any character.

Where sqlglot's MySQL dialect rejects valid MySQL/MariaDB syntax the text is adjusted by
blanking words with spaces (``REPLACE INTO``, DML modifiers, ``IGNORED`` index flags,
``SELECT … INTO var``, ``:name`` bind parameters), so each node's position still points into the
original file. Parse errors come back as ``(file offset, reason near 'text')``.
"""

from __future__ import annotations

import logging
import re
import sys

from sqlglot import exp
from sqlglot import parser as sqlglot_parser
from sqlglot.dialects.mysql import MySQL
from sqlglot.errors import ParseError, SqlglotError

from ticketdb.lint.parse.model import Unit
from ticketdb.sqlscript import Token, tokenize

logging.getLogger("sqlglot").setLevel(logging.ERROR)

#: where sqlglot gave up and fell back to an opaque Command: (offset in its input, token text)
_stuck: list[tuple[int, str]] = []


def _lint_dialect() -> tuple[MySQL, bool]:
    """sqlglot's MySQL dialect, remembering where it stopped understanding a statement, so a
    parse failure can say where and near what instead of only "cannot parse". With sqlglot's
    compiled extension (sqlglotc) the parser cannot be subclassed: the plain dialect then, and
    :func:`stuck_at` finds the place by parsing shorter prefixes (only for failures). The
    flag says whether the dialect tracks the place itself."""
    try:

        class _LintMySQL(MySQL):
            class Parser(MySQL.Parser):
                def _parse_as_command(self, start):  # type: ignore[no-untyped-def]
                    cur = self._curr
                    if cur is not None and cur is not start:
                        _stuck.append((cur.start, cur.text))
                    return super()._parse_as_command(start)

        dialect = _LintMySQL()
        dialect.parse("SELECT 1")
    except TypeError:  # "interpreted classes cannot inherit from compiled"
        return MySQL(), False
    return dialect, True


_DIALECT, _TRACKS_STUCK = _lint_dialect()
#: one tokenizer and one parser of _DIALECT, used for every piece: ``Dialect.parse`` makes
#: both anew per call, a fifth of sqlglot's time on routine bodies (thousands of small pieces)
_TOOLS: tuple[object, object, object] | None = None


def _sqlglot(sql: str) -> list[exp.Expr | None]:
    """``_DIALECT.parse(sql)`` with the dialect's tokenizer and parser made once (the
    parser resets itself on each call)."""
    global _TOOLS
    tools = _TOOLS
    if tools is None or tools[0] is not _DIALECT:  # a test may swap the dialect
        tools = _TOOLS = (_DIALECT, _DIALECT.tokenizer(), _DIALECT.parser())
    _, tokenizer, parser = tools
    return parser.parse(tokenizer.tokenize(sql), sql)  # type: ignore[attr-defined]


#: Python 3.11+ runs Python-to-Python calls without growing the C stack, so a high limit is
#: safe there; older interpreters keep their own
#: sqlglot's compiled build (sqlglotc, installed by default where a wheel exists) recurses on
#: the C stack: a lower limit, which
#: still parses 1500 nested parentheses there and fails cleanly (RecursionError) beyond
_COMPILED = sqlglot_parser.__file__.endswith((".so", ".pyd"))
_RECURSION_LIMIT = (4_000 if _COMPILED else 30_000) if sys.version_info >= (3, 11) else 0

_DML_MODIFIERS = {"LOW_PRIORITY", "HIGH_PRIORITY", "DELAYED", "QUICK", "IGNORE"}
_SELECT_INTO_STOP = {
    "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "FOR", "LOCK", "UNION", "WINDOW",
    "INTO",
}  # fmt: skip


def offset_at(text: str, line: int, col: int) -> int:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return starts[max(0, min(line, len(starts)) - 1)] + max(0, col - 1)


def significant_tokens(text: str, base: int) -> list[Token]:
    return [
        Token(t.kind, t.text, t.offset + base, t.line, t.col)
        for t in tokenize(text)
        if t.kind not in ("ws", "comment")
    ]


def ident(text: str) -> str:
    if text.startswith("`") and text.endswith("`"):
        return text[1:-1].replace("``", "`")
    return text


def blank(chars: list[str], start: int, end: int) -> None:
    for k in range(max(0, start), min(end, len(chars))):
        if chars[k] not in "\n":
            chars[k] = " "


def normalise(text: str, base: int, toks: list[Token]) -> str:
    """Blank what sqlglot's MySQL dialect rejects in valid MySQL/MariaDB, keeping offsets.
    ``toks`` are the significant tokens of ``text`` with file offsets (``base`` = text[0])."""
    if not _may_need_blanking(text, toks):
        return text  # most statements: nothing below applies (checked on the text at C speed)
    chars = list(text)
    ups = [t.text.upper() for t in toks]  # Token.upper would upper-case anew on each access
    words = [u for t, u in zip(toks, ups, strict=True) if t.kind == "word"]
    if words[:1] == ["REPLACE"]:
        o = toks[0].offset - base
        chars[o : o + 7] = list("INSERT ")
    if words[:1] in (["UPDATE"], ["DELETE"], ["INSERT"], ["REPLACE"]):
        # UPDATE LOW_PRIORITY IGNORE …, DELETE QUICK …: no effect on names
        for t, u in zip(toks[1:4], ups[1:4], strict=True):
            if t.kind != "word" or u not in _DML_MODIFIERS:
                break
            blank(chars, t.offset - base, t.offset - base + len(t.text))
    n = len(toks)
    for i, t in enumerate(toks):
        if t.text == ":":
            prev = toks[i - 1] if i > 0 else None
            nxt = toks[i + 1] if i + 1 < n else None
            if (
                nxt is not None
                and nxt.kind == "word"
                and nxt.offset == t.offset + 1
                and (
                    prev is None or prev.offset + len(prev.text) < t.offset or prev.kind == "punct"
                )
            ):
                # a bind parameter (:from, :ticket_id) as the app's query files write them
                o = t.offset - base
                chars[o] = "?"
                blank(chars, o + 1, o + 1 + len(nxt.text))
            continue
        if t.kind != "word" or i == 0:
            continue
        u = ups[i]
        if u in ("UNSIGNED", "ZEROFILL") and (
            ups[i - 1] in _FLOAT_TYPES or (toks[i - 1].text == ")" and _float_before_paren(toks, i))
        ):
            # FLOAT/DOUBLE/REAL UNSIGNED: deprecated, valid, and rejected by sqlglot
            blank(chars, t.offset - base, t.offset - base + len(t.text))
        elif u == "IGNORED" and is_ignored_flag(toks, i):
            blank(chars, t.offset - base, t.offset - base + len(t.text))
            prev = toks[i - 1]
            if ups[i - 1] == "NOT":
                blank(chars, prev.offset - base, prev.offset - base + len(prev.text))
    if words[:1] in (["SELECT"], ["WITH"]):
        _blank_select_into(chars, base, toks)
    return "".join(chars)


def _may_need_blanking(text: str, toks: list[Token]) -> bool:
    """False when :func:`normalise` would change nothing: none of the words it looks for is in
    the text (a hit in a string or a name only means the full look)."""
    if ":" in text:
        return True
    up = text.upper()
    if "UNSIGNED" in up or "ZEROFILL" in up or "IGNORED" in up:
        return True
    first = next((t.text.upper() for t in toks if t.kind == "word"), "")
    if first in ("SELECT", "WITH"):
        return "INTO" in up
    if first in ("UPDATE", "DELETE", "INSERT", "REPLACE"):
        return first == "REPLACE" or any(t.text.upper() in _DML_MODIFIERS for t in toks[1:4])
    return False


def is_ignored_flag(toks: list[Token], i: int) -> bool:
    """MariaDB's ``[NOT] IGNORED`` index attribute (after the key parts, or ``ALTER INDEX k``),
    as opposed to a column that happens to be called ``ignored``."""
    prev = toks[i - 1] if i > 0 else None
    if prev is None:
        return False
    if prev.text == ")" or prev.upper == "NOT":
        return True
    return i >= 2 and toks[i - 2].upper in ("INDEX", "KEY")


_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL", "PRECISION"}


def _float_before_paren(toks: list[Token], i: int) -> bool:
    """``FLOAT(7,4) UNSIGNED``: is the group closed just before toks[i] a float type's?"""
    depth = 0
    for j in range(i - 1, -1, -1):
        if toks[j].text == ")":
            depth += 1
        elif toks[j].text == "(":
            depth -= 1
            if depth == 0:
                return j > 0 and toks[j - 1].upper in _FLOAT_TYPES
    return False


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
            blank(chars, t.offset - base, end - base)
            i = j
            continue
        i += 1


def parse_unit(
    text: str, offset: int, toks: list[Token], *, expression: bool = False, prefix: str = ""
) -> Unit:
    """Parse one piece of SQL with sqlglot; errors come back with file offsets."""
    norm = normalise(text, offset, toks) if not expression else text
    unit = Unit(text, offset, prefix=len(prefix), expression=expression)
    _stuck.clear()
    limit = sys.getrecursionlimit()
    try:
        # sqlglot descends a frame chain per parenthesis: 500 nested ones (valid SQL) need more
        # than Python's default 1000 frames; deeper nesting becomes a finding, not a crash
        sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
        trees = [t for t in _sqlglot(prefix + norm) if t is not None]
    except RecursionError:
        unit.error = (offset, "cannot parse: nested too deeply for the parser (expression depth)")
        return unit
    except ParseError as exc:
        unit.error = (_error_offset(exc, prefix + norm, offset, len(prefix)), _message(exc))
        return unit
    except SqlglotError as exc:
        unit.error = (offset, f"cannot parse: {str(exc).splitlines()[0]}")
        return unit
    finally:
        sys.setrecursionlimit(limit)
    if len(trees) != 1:
        at = trees[1].meta.get("start") if len(trees) > 1 and trees[1].meta else None
        where = offset + max(0, at - len(prefix)) if at is not None else offset
        unit.error = (where, f"cannot parse: {len(trees)} statements where one was expected")
        return unit
    unit.tree = trees[0]
    if isinstance(unit.tree, exp.Command):
        if _stuck:
            at, near = _stuck[-1]
            unit.stuck = (offset + max(0, at - len(prefix)), near)
        elif not _TRACKS_STUCK:
            unit.parsed = prefix + norm  # stuck_at() looks for the place when it is asked
    return _checked(unit, toks, offset)


def _checked(unit: Unit, toks: list[Token], offset: int) -> Unit:
    """What sqlglot accepts but the server does not."""
    if isinstance(unit.tree, exp.Update) and not unit.tree.expressions:
        set_tok = next((t for t in toks if t.kind == "word" and t.upper == "SET"), None)
        where = set_tok.offset if set_tok is not None else offset
        unit.tree, unit.error = None, (where, "cannot parse: UPDATE without SET assignments")
    return unit


#: how many tokens stuck_at() may hand to sqlglot in all, for one statement (prefixes of it)
_STUCK_BUDGET = 1_000_000  # about 1 s with sqlglotc, for one failing statement


def stuck_at(unit: Unit, floor: int | None = None) -> tuple[int, str] | None:
    """Where sqlglot gave up on ``unit`` (a Command): (file offset, token text). The tracking
    dialect records it while parsing; sqlglot's compiled build cannot be hooked, so there the
    longest prefix that sqlglot still understands is searched for, from the end (failures
    only; a prefix cut before the problem may read as a Command too, so no bisection): the
    token after it is where the parser stopped. A very long statement whose problem is far
    from its end stops the search (None) rather than the run. ``floor``: a file offset known
    to be past the trouble's start (an ALTER TABLE action after its table name, which alone
    sqlglot also reads as a command)."""
    if unit.stuck is not None or unit.parsed is None:
        return unit.stuck
    sql, unit.parsed = unit.parsed, None
    try:
        tokens = _DIALECT.tokenize(sql)
    except SqlglotError:
        return None

    def file_offset(tok: object) -> int:
        return unit.offset + max(0, tok.start - unit.prefix)  # type: ignore[attr-defined]

    cands = [
        (i, t) for i, t in enumerate(tokens) if i and (floor is None or file_offset(t) >= floor)
    ]
    budget = _STUCK_BUDGET
    for i, tok in reversed(cands):
        budget -= i
        if budget < 0:
            return None
        try:
            trees = [t for t in _sqlglot(sql[: tok.start]) if t is not None]
        except SqlglotError:
            trees = []  # an unfinished prefix: it stops before the problem too
        except RecursionError:
            return None
        if not (len(trees) == 1 and isinstance(trees[0], exp.Command)):
            unit.stuck = (file_offset(tok), tok.text)
            return unit.stuck
    if floor is not None and cands:
        unit.stuck = (file_offset(cands[0][1]), cands[0][1].text)  # nothing from it on
    return unit.stuck


_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+, col: \d+, "
                         r"start: \d+, end: \d+, comments: \[.*?\]>")  # fmt: skip
_CLASS_REPR = re.compile(r"<class '(?:[\w]+\.)*(\w+)'>")


def readable(description: str) -> str:
    """sqlglot's error text without its internal reprs: a token becomes its text (the end of
    the input says so), a class its name."""

    def token(m: re.Match[str]) -> str:
        return "the end of the statement" if m.group(1) == "SENTINEL" else repr(m.group(2))

    return _CLASS_REPR.sub(r"\1", _TOKEN_REPR.sub(token, description))


def _message(exc: ParseError) -> str:
    err = exc.errors[0] if exc.errors else {}
    desc = readable(err.get("description") or str(exc).splitlines()[0])
    near = (err.get("highlight") or "").strip()
    return f"cannot parse: {desc}" + (f" near {near!r}" if near else "")


def _error_offset(exc: ParseError, text: str, base: int, prefix: int) -> int:
    err = exc.errors[0] if exc.errors else {}
    line, col = err.get("line"), err.get("col")
    if not line or not col:
        return base
    o = offset_at(text, line, col)
    o -= max(0, len(err.get("highlight") or "") - 1)
    return base + max(0, min(o, len(text)) - prefix)


def matching_paren(toks: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1
