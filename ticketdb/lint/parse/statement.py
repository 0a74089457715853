"""Parse one statement: CREATE/ALTER TABLE (partition clauses, per-action retries), views,
indexes, RENAME, DML; routines go to :mod:`ticketdb.lint.parse.routine`, which gets
:func:`parse_statement` passed in for the DDL inside bodies (so neither imports the other in a
cycle). Whatever cannot be parsed becomes an error with an offset, never an exception.
"""

from __future__ import annotations

import re

from sqlglot import exp

from ticketdb.lint.parse.model import ParsedStatement, Partitioning, Unit
from ticketdb.lint.parse.routine import parse_routine
from ticketdb.lint.parse.unit import (
    blank,
    ident,
    matching_paren,
    parse_unit,
    significant_tokens,
    stuck_at,
)
from ticketdb.lint.parse.words import OPAQUE_ALTER_ACTIONS, OPAQUE_STARTS, ROUTINE_KINDS
from ticketdb.sqlscript import (
    ObjectHeader,
    SplitError,
    Statement,
    Token,
    tokenize,
)

_BIG_INSERT = 20_000
_INSERT_START = re.compile(r"\s*(INSERT|REPLACE)\b", re.IGNORECASE)
_INSERT_TAIL = re.compile(r"ON\s+DUPLICATE|RETURNING", re.IGNORECASE)
_VALUES = re.compile(r"\bVALUES?\b", re.IGNORECASE)


def first_row_end(text: str) -> int | None:
    """Offset just after the first row of a big multi-row ``INSERT … VALUES (…), (…)``, or
    None when ``text`` is not one (short, no VALUES, an ON DUPLICATE/RETURNING tail)."""
    if len(text) < _BIG_INSERT or not _INSERT_START.match(text):
        return None
    if _INSERT_TAIL.search(text, max(0, len(text) - 4000)):
        return None
    m = _VALUES.search(text)
    if m is None:
        return None
    # try each ")" after VALUES as the end of the first row: lex only that short prefix
    pos = m.end()
    for _ in range(200):
        pos = text.find(")", pos)
        if pos < 0:
            return None
        pos += 1
        try:
            toks = tokenize(text[m.end() : pos])
        except SplitError:  # this ")" is inside a string
            continue
        depth = 0
        for t in toks:
            depth += (t.text == "(") - (t.text == ")")
        if depth == 0 and any(t.text == "(" for t in toks):
            return pos
    return None


def _first_row_only(st: Statement) -> Statement:
    """A data dump's multi-row INSERT (mysqldump writes MBs per statement): keep the text up to
    the end of the first row. Offsets before the cut do not move, and names are all there."""
    end = first_row_end(st.text)
    if end is None:
        return st
    return Statement(st.text[:end], st.offset, st.line, st.col, st.delimiter)


_OBJECT_KINDS = ROUTINE_KINDS | {"VIEW", "TABLE", "INDEX", "DATABASE", "SCHEMA"}


def _header(st: Statement, toks: list[Token]) -> ObjectHeader | None:
    """What :func:`ticketdb.sqlscript.create_header` reads, from the statement's tokens (it
    would lex the header again, once per statement)."""
    return read_header(st, toks)[0]


HEADER_TOKENS = 40  # the header is in the first words, as it always was read


def read_header(st: Statement, toks: list[Token]) -> tuple[ObjectHeader | None, bool]:
    """:func:`_header`, and whether the answer is settled by the tokens read before the
    window of HEADER_TOKENS (or the tokens given) ended: more tokens of the same statement
    could change an unsettled one (``toks`` may be its first tokens only)."""
    if not toks or toks[0].text.upper() != "CREATE":
        return None, True
    n = min(len(toks), HEADER_TOKENS)
    i = 1
    while i < n and not (toks[i].kind == "word" and toks[i].text.upper() in _OBJECT_KINDS):
        i += 1
    if i >= n:
        return None, False
    kind = toks[i].text.upper()
    i += 1
    while i < n and toks[i].kind == "word" and toks[i].text.upper() in ("IF", "NOT", "EXISTS"):
        i += 1
    if i >= n:
        return None, False
    name_tok = toks[i]
    if i + 2 < n and toks[i + 1].text == "." and toks[i + 2].kind in ("word", "quoted"):
        name_tok = toks[i + 2]  # schema-qualified: db.name
    header = ObjectHeader(kind, ident(name_tok.text), name_tok.offset - st.offset)
    return header, i + 2 < n


def parse_statement(st: Statement, tokens: list[Token] | None = None) -> ParsedStatement:
    """``tokens``: the statement's significant tokens (file offsets) when the caller lexed the
    whole file already; else it is lexed here."""
    cut = _first_row_only(st)
    if tokens is not None and cut is not st:
        end = cut.offset + len(cut.text)
        tokens = [t for t in tokens if t.offset < end]
    st = cut
    try:
        toks = tokens if tokens is not None else significant_tokens(st.text, st.offset)
    except SplitError as exc:  # pragma: no cover - split() already lexed this text
        ps = ParsedStatement(st, [], [])
        ps.errors.append((st.offset, str(exc)))
        return ps
    words = [t.upper for t in toks[:8] if t.kind == "word"]
    ps = ParsedStatement(st, toks, words, header=_header(st, toks))
    try:
        _parse_into(ps)
    except Exception as exc:  # a linter bug must become a finding, not a traceback
        ps.errors.append((st.offset, f"internal error while parsing: {exc!r}"))
    return ps


def _parse_into(ps: ParsedStatement) -> None:
    h = ps.header
    if h and h.kind in ROUTINE_KINDS:
        ps.routine, ps.units, errors = parse_routine(ps, parse_statement)
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
            close = ps.tokens[matching_paren(ps.tokens, open_i)]
            chars = list(ps.text)
            blank(chars, close.offset - ps.offset + 1, len(chars))
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
    # ALGORITHM=…, DEFINER=…, SQL SECURITY … between CREATE [OR REPLACE] and VIEW: sqlglot
    # rejects some spellings (DEFINER=CURRENT_USER); the rules read them from the tokens
    first = 3 if [t.upper for t in toks[1:3]] == ["OR", "REPLACE"] else 1
    if v > first:
        blank(chars, toks[first].offset - base, toks[v].offset - base)
    name_i = v + 1
    if name_i + 2 < len(toks) and toks[name_i + 1].text == ".":
        name_i += 2
    if name_i + 1 < len(toks) and toks[name_i + 1].text == "(":
        end = matching_paren(toks, name_i + 1)
        ps.view_columns = [ident(t.text) for t in toks[name_i + 2 : end] if t.text != ","]
        blank(chars, toks[name_i + 1].offset - base, toks[end].offset - base + 1)
    for i in range(len(toks) - 1, 0, -1):
        if toks[i].upper == "OPTION" and toks[i - 1].upper == "CHECK":
            j = i - 2
            if toks[j].upper in ("CASCADED", "LOCAL"):
                j -= 1
            if toks[j].upper == "WITH":
                blank(chars, toks[j].offset - base, len(chars))
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
        what = " ".join(ps.words[:2]) if ps.words[:1] in (["CREATE"], ["ALTER"]) else ""
        what = what or (ps.words[0] if ps.words else "")
        ps.errors.append(_unsupported(unit, f"{what} statement"))
        unit.tree = None
    else:
        ps.tree = unit.tree


def _unsupported(unit: Unit, what: str, floor: int | None = None) -> tuple[int, str]:
    """The finding for a piece sqlglot could only read as an opaque command: where it gave up
    and near which word (in both of sqlglot's builds)."""
    stuck = stuck_at(unit, floor)
    if stuck is None:
        return unit.offset, (
            f"cannot parse {what}: unsupported syntax (sqlglot's compiled build, sqlglotc, "
            "does not say where; uninstall it for the position)"
        )
    at, near = stuck
    return at, f"cannot parse {what}: unsupported syntax near {near!r}"


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


def _parse_create_table(ps: ParsedStatement) -> None:
    toks, base = ps.tokens, ps.offset
    chars = list(ps.text)
    # the column list: first "(" at depth 0 (absent for CREATE TABLE … LIKE / AS SELECT)
    open_i = next((i for i, t in enumerate(toks) if t.text == "("), None)
    close_i = matching_paren(toks, open_i) if open_i is not None else None
    options_from = close_i + 1 if close_i is not None else len(toks)
    for i in range(options_from, len(toks) - 1):
        if toks[i].upper == "PARTITION" and toks[i + 1].upper == "BY":
            ps.partitioning = _partitioning(toks, i)
            blank(chars, toks[i].offset - base, len(chars))
            break
    text = "".join(chars)
    unit = parse_unit(text, base, toks)
    if (unit.error or isinstance(unit.tree, exp.Command)) and close_i is not None:
        # unknown table options (WITH SYSTEM VERSIONING, …): keep the column list only
        retry_chars = list(text)
        blank(retry_chars, toks[close_i].offset - base + 1, len(chars))
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
        end = matching_paren(toks, j)
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
            if part.error:
                ps.errors.append(part.error)
                continue
            if isinstance(part.tree, exp.Command):
                ps.errors.append(_unsupported(part, "ALTER TABLE action", piece[0].offset))
                continue
            if not isinstance(part.tree, exp.Alter):
                kind = type(part.tree).__name__ if part.tree is not None else "nothing"
                message = f"cannot parse ALTER TABLE action: read as {kind}, not as ALTER TABLE"
                ps.errors.append((piece[0].offset, message))
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
            blank(chars, t.offset - base, last.offset - base + len(last.text))
