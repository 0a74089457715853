"""Routine bodies (CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT), which sqlglot leaves opaque.

The header is read token by token (trigger table and event, procedure/function parameters,
characteristics, ``ON SCHEDULE … DO``). The body is walked with BEGIN/END depth in mind: labels,
``BEGIN [NOT ATOMIC]``, ``END [IF|CASE|LOOP|REPEAT|WHILE|label]``, DECLAREs (variables, cursors,
handlers, conditions), SIGNAL/LEAVE/ITERATE/OPEN/FETCH/CLOSE are consumed here; the conditions of
IF/ELSEIF/WHILE/UNTIL/CASE/WHEN and RETURN values become expression units; every other statement
(the DML) is parsed by sqlglot on its own, so column references inside bodies are checked too.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from itertools import accumulate, repeat
from operator import itemgetter

from ticketdb.lint.parse.model import ParsedStatement, Routine, Unit
from ticketdb.lint.parse.unit import ident, parse_unit
from ticketdb.lint.parse.words import OPAQUE_STARTS
from ticketdb.sqlscript import Statement, Token

ParseStatement = Callable[[Statement], ParsedStatement]

_PAREN_STEP = {"(": 1, ")": -1}
_INNER_OPAQUE = OPAQUE_STARTS - {"SET", "CALL"} | {"DO"}
_DDL = {"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"}
_END_SUFFIX = {"IF", "CASE", "LOOP", "REPEAT", "WHILE"}
_CHARACTERISTIC_WORDS = {
    "LANGUAGE", "NOT", "DETERMINISTIC", "CONTAINS", "NO", "READS", "MODIFIES", "SQL",
    "SECURITY", "DEFINER", "INVOKER", "DATA",
}  # fmt: skip
_TRIVIAL_WORDS = {
    "AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "UNKNOWN", "DIV", "MOD", "XOR", "LIKE",
    "IN", "BETWEEN", "INTERVAL", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER",
    "YEAR", "MICROSECOND", "ESCAPE",
}  # fmt: skip
_QUERY_WORDS = {"SELECT", "EXISTS", "WITH", "VALUES", "TABLE"}
_TYPE_WORDS = {"UNSIGNED", "SIGNED", "ZEROFILL", "BINARY", "CHARSET", "CHARACTER", "SET", "COLLATE"}


class _Walker:
    def __init__(self, ps: ParsedStatement, routine: Routine, parse_statement: ParseStatement):
        self.ps = ps
        self.parse_statement = parse_statement
        self.base = ps.offset
        self.toks = toks = ps.tokens
        self.routine = routine
        self.units: list[Unit] = []
        self.errors: list[tuple[int, str]] = []
        self.nested: list[ParsedStatement] = []
        # made once per body, as the walk asks for them token by token: upper-case words
        # ("" for other tokens), where the delimiters are, and the parenthesis depth before
        # each token
        kinds = list(map(itemgetter(0), toks))
        self.words = [u if k == "word" else "" for k, u in zip(kinds, ps.uppers, strict=True)]
        self.delims = [k for k, kind in enumerate(kinds) if kind == "delim"]
        steps = map(_PAREN_STEP.get, map(itemgetter(1), toks), repeat(0))
        self.depth = [0, *accumulate(steps)]

    # -- helpers ---------------------------------------------------------------------------
    def word(self, i: int) -> str:
        return self.words[i] if 0 <= i < len(self.words) else ""

    def text(self, a: int, b: int) -> str:
        """Source text of tokens a..b-1."""
        first, last = self.toks[a], self.toks[b - 1]
        return self.ps.text[first.offset - self.base : last.offset - self.base + len(last.text)]

    def next_delim(self, i: int) -> int:
        """Index of the first delimiter from i on that is not inside parentheses opened
        after i (the end of the tokens if there is none)."""
        if i >= len(self.toks):
            return i
        depth, delims = self.depth, self.delims
        for k in range(bisect_left(delims, i), len(delims)):
            j = delims[k]
            if depth[j] <= depth[i]:
                return j
        return len(self.toks)

    def until(self, i: int, stops: set[str]) -> int:
        """Index of the first stop word at depth 0 (CASE … END and parentheses nest)."""
        depth = case = 0
        while i < len(self.toks):
            t = self.toks[i]
            w = self.word(i)
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
            elif t.kind == "delim":
                return i
            elif depth == 0 and w == "CASE":
                case += 1
            elif depth == 0 and w == "END" and case:
                case -= 1
            elif depth == 0 and case == 0 and w in stops:
                return i
            i += 1
        return i

    def statement(self, a: int, b: int) -> None:
        if a >= b:
            return
        w = self.word(a)
        if w in _INNER_OPAQUE and w not in _DDL:
            return
        text, offset = self.text(a, b), self.toks[a].offset
        if w in _DDL:
            nested = self.parse_statement(Statement(text, offset, 0, 0, ";"))
            self.nested.append(nested)
            self.units.extend(nested.units)
            self.errors.extend(nested.errors)
            return
        if w == "SET" and self.trivial(a + 1, b):
            return
        unit = parse_unit(text, offset, self.toks[a:b])
        self.units.append(unit)
        if unit.error:
            self.errors.append(unit.error)

    def trivial(self, a: int, b: int) -> bool:
        """Only local variables, literals, operators and function calls: nothing a rule could
        check, so sqlglot (the costly part) is not asked (``IF v_done = 1``, ``SET n = n + 1``)."""
        local = self.routine.params | self.routine.variables
        toks = self.toks
        for k in range(a, b):
            t = toks[k]
            if t.kind == "quoted" or t.text == ".":
                return False
            if t.kind != "word":
                continue
            u = t.upper
            if u[0].isdigit() or u in _TRIVIAL_WORDS or t.text.lower() in local:
                continue
            if k > a and toks[k - 1].text == "@":
                continue  # @user_variable
            if k + 1 < b and toks[k + 1].text == "(" and u not in _QUERY_WORDS:
                continue  # a function call
            return False
        return True

    def expression(self, a: int, b: int) -> None:
        if a >= b or self.trivial(a, b):
            return
        unit = parse_unit(self.text(a, b), self.toks[a].offset, self.toks[a:b], expression=True,
                          prefix="SELECT ")  # fmt: skip
        self.units.append(unit)
        if unit.error:
            self.errors.append(unit.error)

    # -- the walk --------------------------------------------------------------------------
    def walk(self, i: int) -> None:
        toks = self.toks
        n = len(toks)
        while i < n:
            t = toks[i]
            w = self.word(i)
            if t.kind == "delim":
                i += 1
            elif (
                t.kind in ("word", "quoted")
                and i + 1 < n
                and toks[i + 1].text == ":"
                and (i + 2 >= n or toks[i + 2].text != "=")
            ):
                i += 2  # label:
            elif w == "BEGIN":
                i += 1
                if self.word(i) == "NOT" and self.word(i + 1) == "ATOMIC":
                    i += 2
            elif w == "END":
                i = self.next_delim(i)
            elif w in ("ELSE", "REPEAT", "LOOP"):
                i += 1
            elif w in ("IF", "ELSEIF", "WHILE", "WHEN"):
                j = self.until(i + 1, {"DO"} if w == "WHILE" else {"THEN"})
                self.expression(i + 1, j)
                i = j + 1
            elif w == "UNTIL":
                j = self.until(i + 1, {"END"})
                self.expression(i + 1, j)
                i = j
            elif w == "CASE":
                if self.word(i + 1) == "WHEN":
                    i += 1
                else:
                    j = self.until(i + 1, {"WHEN"})
                    self.expression(i + 1, j)
                    i = j
            elif w == "FOR" and self.word(i + 2) == "IN":
                # MariaDB's FOR v IN [REVERSE] lo..hi | cursor DO … END FOR
                self.routine.variables.add(ident(toks[i + 1].text).lower())
                i = self.until(i + 1, {"DO"}) + 1
            elif w == "RETURN":
                j = self.next_delim(i + 1)
                self.expression(i + 1, j)
                i = j
            elif w == "DECLARE":
                i = self.declare(i + 1)
            else:
                j = self.next_delim(i)
                self.statement(i, j)
                i = j

    def declare(self, i: int) -> int:
        toks = self.toks
        w = self.word(i)
        if w in ("CONTINUE", "EXIT", "UNDO") and self.word(i + 1) == "HANDLER":
            i += 3  # … HANDLER FOR
            while i < len(toks):
                if self.word(i) == "SQLSTATE":
                    i += 1
                    if self.word(i) == "VALUE":
                        i += 1
                    i += 1
                elif self.word(i) == "NOT" and self.word(i + 1) == "FOUND":
                    i += 2
                else:
                    i += 1
                if i < len(toks) and toks[i].text == ",":
                    i += 1
                    continue
                break
            return i  # the handler's statement is walked like any other
        if self.word(i + 1) == "CONDITION":
            return self.next_delim(i)
        if self.word(i + 1) == "CURSOR":
            j = self.next_delim(i)
            self.statement(i + 3, j)  # DECLARE c CURSOR FOR <select>
            return j
        names: list[str] = []
        while i < len(toks) and toks[i].kind in ("word", "quoted"):
            names.append(ident(toks[i].text).lower())
            if i + 1 < len(toks) and toks[i + 1].text == ",":
                i += 2
                continue
            break
        self.routine.variables.update(names)
        return self.next_delim(i)


def _skip_group(toks: list[Token], i: int) -> int:
    """Index after the parenthesised group starting at i (or i when there is none)."""
    if i >= len(toks) or toks[i].text != "(":
        return i
    depth = 0
    while i < len(toks):
        if toks[i].text == "(":
            depth += 1
        elif toks[i].text == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _params(toks: list[Token], i: int) -> tuple[list[str], int]:
    end = _skip_group(toks, i)
    names: list[str] = []
    expect_name = True
    depth = 0
    for t in toks[i + 1 : end - 1]:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        elif t.text == "," and depth == 0:
            expect_name = True
        elif expect_name and t.kind in ("word", "quoted"):
            if t.kind == "word" and t.upper in ("IN", "OUT", "INOUT"):
                continue
            names.append(ident(t.text).lower())
            expect_name = False
    return names, end


def parse_routine(
    ps: ParsedStatement, parse_statement: ParseStatement
) -> tuple[Routine, list[Unit], list[tuple[int, str]]]:
    """Read a routine's header and walk its body; DDL inside the body goes to
    ``parse_statement`` (passed in: the statement parser calls this one)."""
    toks = ps.tokens
    header = ps.header
    assert header is not None
    kind = header.kind
    routine = Routine(kind, header.name)
    walker = _Walker(ps, routine, parse_statement)
    # the name token: create_header() gave its offset inside the statement
    name_at = ps.offset + header.name_offset
    i = next((k for k, t in enumerate(toks) if t.offset == name_at), None)
    if i is None:
        return routine, [], [(ps.offset, f"cannot read the {kind} header")]
    i += 1
    if kind == "TRIGGER":
        # {BEFORE|AFTER} {INSERT|UPDATE|DELETE} ON tbl FOR EACH ROW [{FOLLOWS|PRECEDES} t]
        routine.timing = walker.word(i) or None
        routine.event = walker.word(i + 1) or None
        if walker.word(i + 2) != "ON":
            return routine, [], [(toks[min(i, len(toks) - 1)].offset, "cannot read trigger header")]
        i += 3
        if i + 2 < len(toks) and toks[i + 1].text == ".":
            i += 2
        routine.table = ident(toks[i].text) if i < len(toks) else None
        i += 4  # table FOR EACH ROW
        if walker.word(i) in ("FOLLOWS", "PRECEDES"):
            i += 2
    elif kind in ("PROCEDURE", "FUNCTION"):
        params, i = _params(toks, i)
        routine.params, routine.param_count = set(params), len(params)
        if kind == "FUNCTION" and walker.word(i) == "RETURNS":
            i = _skip_group(toks, i + 2)
            while walker.word(i) in _TYPE_WORDS:
                w = walker.word(i)
                i += 1
                if w in ("CHARSET", "COLLATE") or (
                    w == "SET" and walker.word(i - 2) == "CHARACTER"
                ):
                    i += 1
        while i < len(toks):
            w = walker.word(i)
            if w == "COMMENT":
                i += 2
            elif w == "SQL" and walker.word(i + 1) == "SECURITY":
                i += 3
            elif w == "READS" or w == "MODIFIES":
                i += 3
            elif w in _CHARACTERISTIC_WORDS and w != "SQL":
                i += 1
            elif w == "SQL":
                i += 1
            else:
                break
    else:  # EVENT: ON SCHEDULE … DO body
        depth = 0
        while i < len(toks):
            if toks[i].text == "(":
                depth += 1
            elif toks[i].text == ")":
                depth -= 1
            elif depth == 0 and walker.word(i) == "DO":
                i += 1
                break
            i += 1
    if i >= len(toks):
        return routine, [], [(ps.offset + len(ps.text), f"{kind} {header.name} has no body")]
    routine.body_offset = toks[i].offset
    walker.walk(i)
    routine.nested = walker.nested
    return routine, walker.units, walker.errors
