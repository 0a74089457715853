"""Read a big script region by region, on every pass, instead of keeping it parsed.

Why: a run keeps what it parses until it ends, and a 30 MB dump of one-line statements made
5 GB of tokens and trees. A streamed file keeps only its text; each pass walks it again:

* a *region* is a run of lines that ends where the splitter is back at a statement start with
  the ``;`` delimiter (a ``DELIMITER ;;`` block is one region); it is lexed, split and parsed
  alone, its tokens moved to file offsets. A line ending in ``;`` is tried as an end (again only
  once the region has doubled, so a long routine body is not lexed line after line).
* a one-line INSERT/UPDATE/DELETE/REPLACE/SELECT without comments, escapes or the word TABLE is
  a region of its own with a *shape* (the line with its numbers and strings blanked). Such a
  statement changes no schema, so the passes that only build the schema skip it unparsed, and
  the checking pass skips a shape already checked without findings against the same schema.
* the regions of the first ``CACHE_BYTES`` of SQL stay parsed (a file of that size costs what
  it always did: one parse).

Only files above ``STREAM_BYTES`` without ``source``/``use`` client lines are streamed.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from pathlib import Path

from ticketdb.lint.parse.client import _FIRST_LINE_COMMAND, _NEXT_LINE_COMMAND
from ticketdb.lint.parse.files import lex_sql, parse_lexed
from ticketdb.lint.parse.light import headers, lexes, scan
from ticketdb.lint.parse.model import ParsedStatement, Routine, SourceFile, release
from ticketdb.lint.parse.routine import _params
from ticketdb.lint.parse.statement import _header
from ticketdb.lint.parse.unit import offset_at
from ticketdb.sqlscript import _POSSESSIVE, SplitError, Statement, Token

STREAM_BYTES = 1 << 20
CACHE_BYTES = 1 << 20
#: (possessive where the regex engine has it: the body cannot hold the ";" that must follow,
#: so nothing is lost, and a run of plain characters is one step instead of one per character)
_SIMPLE_LINE = (
    r"[ \t]*(?:INSERT|UPDATE|DELETE|REPLACE|SELECT)\b"
    r"(?:[^;'\"`\\#\n/-]++|-(?!-)|/(?!\*)|`[^`\n]*+`|'[^'\\\n]*+')*+;[ \t\r]*+"
)
if not _POSSESSIVE:  # pragma: no cover - Python 3.10
    _SIMPLE_LINE = _SIMPLE_LINE.replace("++", "+").replace("*+", "*")
_SIMPLE = re.compile(_SIMPLE_LINE + r"(?:\n|\Z)", re.IGNORECASE)
_LONG_LINE = 20_000  # mysqldump's extended INSERTs: read as a region (bulk rows blanked)
#: a run of such lines, each shorter than _LONG_LINE: what a schema-only pass skips in one
#: step when the run does not hold the word TABLE (a dump of one-line statements, at C
#: speed). At most _RUN of them: the regex engine keeps a frame per repetition
_RUN = 1000
_SIMPLE_LINES = re.compile(
    rf"(?:(?=[^\n]{{0,{_LONG_LINE - 1}}}\n){_SIMPLE_LINE}\n){{1,{_RUN}}}", re.IGNORECASE
)
_SHAPE = re.compile(r"(`[^`]*`)|'[^']*'|(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
#: the same without the names, for the usual line (no quoted name holds a digit): a fixed
#: replacement is 3x faster than a callback per literal
_SHAPE_FAST = re.compile(r"'[^']*'|(?<![\w.`])\d+(?:\.\d+)?(?![\w.`])")
_NAME_WITH_DIGIT = re.compile(r"`[^`]*\d[^`]*`")
_DELIMITER_LINE = re.compile(r"[ \t]*DELIMITER[ \t]+(\S+)", re.IGNORECASE)
#: words without which a region changes no table, only routines (read from their headers)
_TABLE_WORDS = ("TABLE", "VIEW", "INDEX", "RENAME")
#: the engine pauses the cyclic garbage collector, and parse trees are cycles (parent links):
#: what a walk parsed is collected every this many characters (the young generations only)
_COLLECT_EVERY = 1 << 19


def _name_or_blank(m: re.Match[str]) -> str:
    return m.group(1) or "?"


def _shape(line: str) -> str:
    """``line`` with its numbers and strings blanked, quoted names kept."""
    if "`" in line and _NAME_WITH_DIGIT.search(line):
        return _SHAPE.sub(_name_or_blank, line.strip())
    return _SHAPE_FAST.sub("?", line.strip())


def load_streamed(
    path: Path,
    display: str,
    role: str,
    smaller: tuple[int, Callable[[str], bool]] | None = None,
) -> SourceFile | None:
    """A streamed SourceFile for a big script, or None when it is read whole. ``smaller``:
    (size, test): stream a script from this size on too, when the test says so (to check it
    in parallel: lint/parallel.py), if it lexes without error (read whole, a file the lexer
    rejects gives one error and no other finding; streamed, each region would be checked)."""
    if role != "script" or path.suffix != ".sql":
        return None
    size = path.stat().st_size
    if size <= STREAM_BYTES and (smaller is None or size < smaller[0]):
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None  # the whole-file reader reports it
    if "\\." in text or _FIRST_LINE_COMMAND.match(text) or _NEXT_LINE_COMMAND.search(text):
        return None  # `source`/`use` lines: the engine must know them before it walks
    if size <= STREAM_BYTES and not (smaller is not None and smaller[1](text) and lexes(text)):
        return None
    return SourceFile(path, display, text, role, streamed=True)


def statements_of(
    src: SourceFile, skip: Callable[[str], bool] | None = None
) -> Iterator[ParsedStatement]:
    """``src``'s statements in file order. ``skip`` (streamed files): which shapes of one-line
    DML statements need no look; None skips them all (a pass that only builds the schema)."""
    if not src.streamed:
        yield from src.statements
        return
    if src.stream_cache is None:
        cache: list[object] = []
        walk = _Walk(src, 0, skip, cache)
        yield from walk
        src.stream_cache, src.stream_resume = cache, walk.resume
        return
    for entry in src.stream_cache:
        if isinstance(entry, ParsedStatement):
            if entry.shape is None or (skip is not None and not skip(entry.shape)):
                yield entry
        else:
            shape, start, end = entry  # type: ignore[misc]
            if skip is not None and not skip(shape):
                yield from _region(src, start, end, final=True, shape=shape) or []
    yield from _Walk(src, src.stream_resume, skip, None)


def segment(
    src: SourceFile, start: int, skip: Callable[[str], bool] | None, stop: int | None = None
) -> _Walk:
    """The statements of a streamed ``src`` from ``start`` (a region start) to the first region
    start at or after ``stop`` (``.end`` says where that was), read past its cache: a segment
    of a parallel check (``skip`` as for :func:`statements_of`; None: schema-only)."""
    return _Walk(src, start, skip, None, stop)


class _Walk:
    """One pass over ``src.text`` from ``start``; fills ``cache`` with the regions of the
    first CACHE_BYTES (parsed statements, or (shape, start, end) of a line not parsed)."""

    def __init__(
        self,
        src: SourceFile,
        start: int,
        skip: Callable[[str], bool] | None,
        cache: list[object] | None,
        stop: int | None = None,
    ) -> None:
        self.src, self.start, self.skip, self.cache = src, start, skip, cache
        self.resume = start
        #: ``stop``: end the walk at the first region start at or after it (a segment of a
        #: parallel check); ``end``: where the walk ended (a region start, or the text's end)
        self.stop, self.end = stop, start

    def _keeping(self) -> bool:
        return self.cache is not None and self.resume - self.start <= CACHE_BYTES

    def _keep(self, entries: list[object], end: int) -> None:
        if self.cache is not None and self._keeping():
            self.cache.extend(entries)
            self.resume = end

    def __iter__(self) -> Iterator[ParsedStatement]:
        text, skip = self.src.text, self.skip
        n, pos = len(text), self.start
        region, tried, delimiter = -1, 0, ";"
        collected = pos
        last = text.rfind("\n", 0, n - 1) + 1  # where the last line starts
        stop = n if self.stop is None else self.stop
        while pos < n:
            if region < 0:
                if pos >= stop:
                    break
                eol = text.find("\n", pos, pos + _LONG_LINE)
                m = _SIMPLE.match(text, pos, n if eol < 0 else eol + 1) if eol >= 0 else None
                if m is not None and "TABLE" not in m[0].upper():
                    end = m.end()
                    if skip is None and not self._keeping():  # to the end of the run
                        run = _SIMPLE_LINES.match(text, pos)
                        if run is not None and "TABLE" not in run[0].upper():
                            end = run.end()
                        # (or to the first of its lines at or after stop)
                        pos = end if end <= stop else text.find("\n", stop - 1) + 1
                        continue
                    shape = _shape(m[0])
                    if skip is None or skip(shape):
                        self._keep([(shape, pos, end)], end)
                    else:
                        found = _region(self.src, pos, end, final=True, shape=shape) or []
                        self._keep(list(found), end)
                        yield from found
                    pos = end
                    if pos - collected > _COLLECT_EVERY and not gc.isenabled():
                        gc.collect(1)
                        collected = pos
                    continue
                region, tried, delimiter = pos, 0, ";"
            eol = text.find("\n", pos)
            end = n if eol < 0 else eol + 1
            d = _DELIMITER_LINE.match(text, pos, end)
            if d is not None:
                delimiter = d[1]
            final = end >= n
            at_end = delimiter == ";" and text[pos:end].rstrip().endswith(";")
            pos = end
            if not final and not (at_end and pos - region >= 2 * tried):
                pos = _next_line(text, pos, delimiter, last)
                continue
            light = skip is None and not self._keeping()  # what is kept is parsed whole
            found = _region(self.src, region, pos, final=final, light=light)
            if found is None:
                tried = pos - region
                continue
            self._keep(list(found), pos)
            yield from found
            if not self._keeping():  # checked and applied: nothing keeps them
                for ps in found:
                    release(ps)
            region = -1
            if pos - collected > _COLLECT_EVERY and not gc.isenabled():
                gc.collect(1)
                collected = pos
        self.end = min(pos, n)


#: a line that may end a region: a DELIMITER directive, or (under ";") one ending in ";"
#: (both patterns start with a character, which the regex engine looks for quickly)
_NEXT_DIRECTIVE = re.compile(r"\n[ \t]*DELIMITER[ \t]+\S", re.IGNORECASE)
_NEXT_DIRECTIVE_OR_END = re.compile(r"\n[ \t]*DELIMITER[ \t]+\S|;[^\S\n]*(?:\n|\Z)", re.IGNORECASE)


def _next_line(text: str, pos: int, delimiter: str, last: int) -> int:
    """The start of the next line from ``pos`` (a line start) on that the walk must look at:
    one that switches the delimiter or, under ``;``, ends in ``;`` (``rstrip`` then ``;``), or
    the last line. The lines between change nothing: a long routine body is skipped at C
    speed instead of line by line."""
    if pos >= last or _DELIMITER_LINE.match(text, pos):
        return pos
    if delimiter == ";":
        m = _NEXT_DIRECTIVE_OR_END.search(text, pos, last)
        if m is not None and m[0][0] == ";":
            return max(pos, text.rfind("\n", pos, m.start()) + 1)  # the line it ends
    else:
        m = _NEXT_DIRECTIVE.search(text, pos, last)
    return m.start() + 1 if m is not None else last


def _region(
    src: SourceFile,
    start: int,
    end: int,
    *,
    final: bool,
    shape: str | None = None,
    light: bool = False,
) -> list[ParsedStatement] | None:
    """The statements of ``src.text[start:end]``, or None when it does not end at a statement
    start with the ``;`` delimiter (unless ``final``: then what is wrong is an error).
    ``light``: for a pass that only builds the schema; a region that names no table is read
    only as far as the schema needs (routine headers), not parsed."""
    text = src.text[start:end]
    if light:  # (substring tests: a regex alternation crawls over a 1 MB INSERT line)
        upper = text.upper()
        light = not any(word in upper for word in _TABLE_WORDS)
    scanned = scan(src, start, end) if light else None
    if scanned is not None:  # statement ends and headers without lexing every token
        pieces, complete = scanned
        return headers(pieces) if final or complete else None
    try:
        _, tokens, pieces, commands = lex_sql(text, start)
    except SplitError as exc:
        if not final:
            return None
        _error(src, (start + offset_at(text, exc.line, exc.col), str(exc)))
        return []
    if not final:
        directives = [t for t in tokens if t.kind == "directive"]
        if (directives and directives[-1].text.split()[1:2] != [";"]) or (
            pieces and not pieces[-1].terminated
        ):
            return None
    for at, note in commands.notes:
        if (start + at, note) not in src.notes:
            src.notes.append((start + at, note))
    if light:
        return _headers(tokens, pieces)
    found = list(parse_lexed(tokens, pieces, start, shift=True))
    for ps in found:
        ps.shape = shape
        for error in ps.errors:
            _error(src, error)
    return found


def _error(src: SourceFile, error: tuple[int, str]) -> None:
    if error not in src.errors:  # each pass parses the same statements again
        src.errors.append(error)


def _headers(tokens: list[Token], pieces: list[Statement]) -> list[ParsedStatement]:
    """Statements with their words and routine header (kind, name, parameter count) only:
    all that Schema.apply reads from a statement that names no table."""
    sig = [t for t in tokens if t.kind not in ("ws", "comment", "directive")]
    starts = [t.offset for t in sig]
    out = []
    for moved in pieces:
        lo = bisect_left(starts, moved.offset)
        toks = sig[lo : bisect_left(starts, moved.offset + len(moved.text), lo)]
        header = _header(moved, toks)
        ps = ParsedStatement(moved, toks, [t.upper for t in toks[:8] if t.kind == "word"], header)
        if header is not None and header.kind in ("PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"):
            ps.routine = Routine(header.kind, header.name)
            at = moved.offset + header.name_offset
            i = next((j for j, t in enumerate(toks) if t.offset == at), None)
            if i is not None and header.kind in ("PROCEDURE", "FUNCTION"):
                params, _ = _params(toks, i + 1)
                ps.routine.params, ps.routine.param_count = set(params), len(params)
        out.append(ps)
    return out
