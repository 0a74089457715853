"""What parsing produces: files, statements, routine headers and the units sqlglot parsed.

Offsets are character offsets into the original file everywhere, so findings point at the text
the user wrote even where the parser blanked or rewrote words for sqlglot.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from sqlglot import exp

from ticketdb.sqlscript import ObjectHeader, Statement, Token


def _walk(root: exp.Expr) -> tuple[list[exp.Expr], dict[type, list[exp.Expr]]]:
    """``list(root.walk())`` (breadth first, children in argument order) without a generator
    per node, and the same nodes grouped by class: rules look at every node of every unit."""
    out = [root]
    append = out.append
    by_class: dict[type, list[exp.Expr]] = {}
    group = by_class.get
    for node in out:  # grows while it is read: a queue
        same = group(type(node))
        if same is None:
            by_class[type(node)] = [node]
        else:
            same.append(node)
        for value in node.args.values():
            if type(value) is list:
                for v in value:
                    if isinstance(v, exp.Expr):
                        append(v)
            elif isinstance(value, exp.Expr):
                append(value)
    return out, by_class


_TEXT = itemgetter(1)  # Token.text
#: (the classes a unit holds, the types asked) -> the classes among them that answer: rules
#: ask the same dozen questions of thousands of units made of the same few classes
_WANTED: dict[tuple[frozenset[type], tuple[type, ...]], tuple[type, ...]] = {}


@dataclass
class Unit:
    """A piece handed to sqlglot: a statement, or an expression fragment of a routine body
    (IF/WHILE condition, RETURN value) parsed as ``SELECT <expr>``."""

    text: str  # what sqlglot saw (after the prefix): same length as the source slice
    offset: int  # file offset of text[0]
    tree: exp.Expression | None = None
    error: tuple[int, str] | None = None  # (file offset, message)
    prefix: int = 0  # characters prepended before parsing
    stuck: tuple[int, str] | None = None  # where sqlglot gave up (file offset, token text)
    #: what sqlglot parsed, kept only for a Command whose stuck place is not known yet
    parsed: str | None = field(default=None, repr=False)
    expression: bool = False

    _nodes: list[exp.Expression] | None = field(default=None, repr=False)
    _by_class: dict[type, list[exp.Expression]] | None = field(default=None, repr=False)
    _classes: frozenset[type] = field(default=frozenset(), repr=False)

    @property
    def nodes(self) -> list[exp.Expression]:
        """Every node of the tree, walked once (each rule used to walk it again)."""
        if self._nodes is None:
            self._index()
        return self._nodes  # type: ignore[return-value]

    def _index(self) -> None:
        if self.tree is None:
            self._nodes, self._by_class = [], {}
        else:
            self._nodes, self._by_class = _walk(self.tree)
        self._classes = frozenset(self._by_class)

    def find_all(self, *types: type[exp.Expression]) -> list[exp.Expression]:
        """The nodes of these types (or subclasses), in walk order. Rules ask each unit about
        a dozen types; a unit holds a few distinct classes, so the nodes are grouped by class
        once and a question only looks at the classes that match."""
        if self._by_class is None:
            self._index()
        key = (self._classes, types)
        wanted = _WANTED.get(key)
        if wanted is None:
            wanted = _WANTED[key] = tuple(c for c in self._classes if issubclass(c, types))
        if not wanted:
            return []
        if len(wanted) == 1:
            return list(self._by_class[wanted[0]])  # type: ignore[index]
        return [n for n in self.nodes if type(n) in wanted]

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
    path: str = ""  # set when an ALTER TABLE … PARTITION BY changed it (reported there)


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
    #: a one-line DML statement's text with its literals blanked (streamed files only): two
    #: statements of one shape get the same findings from the same schema
    shape: str | None = None

    _uppers: list[str] | None = field(default=None, repr=False)

    @property
    def uppers(self) -> list[str]:
        """``tokens[i].upper`` for every token, made once: rules scan every token of every
        statement, and ``Token.upper`` upper-cases the text anew on each access."""
        if self._uppers is None:
            # one upper() over all texts joined (upper-casing is context-free), split again
            texts = list(map(_TEXT, self.tokens))
            ups = "\x1f".join(texts).upper().split("\x1f")
            self._uppers = ups if len(ups) == len(texts) else [t.upper() for t in texts]
        return self._uppers

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
    #: what was read but is not SQL (client commands such as ``source``, ``\G``): (offset, note)
    notes: list[tuple[int, str]] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)  # `use db` client lines (no delimiter)
    #: ``source file`` / ``\. file`` client commands: (offset, file name as written)
    sources: list[tuple[int, str]] = field(default_factory=list)
    #: a big script read region by region on each pass instead of kept parsed (parse/stream.py):
    #: ``statements`` stays empty, parse errors land in ``errors``
    streamed: bool = False
    stream_cache: list[object] | None = field(default=None, repr=False)  # the first regions
    stream_resume: int = 0  # where the cached regions end
    #: None until parse/light.py asks: no `source`/`use` line nor an ASCII control character
    #: that Python counts as a space anywhere in the text (its regions may then be read
    #: without the lexer)
    plain: bool | None = field(default=None, repr=False)
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


def release(ps: ParsedStatement) -> None:
    """Unlink the parse trees of a statement that has been checked and applied, so that they
    are freed as soon as it is dropped (sqlglot's parent links make every tree a cycle, which
    only the cyclic garbage collector frees, walking every object made since its last run: a
    sixth of a big script's check). The trees of CREATE/ALTER statements stay whole: the
    schema model keeps their column definitions."""
    if ps.routine is None and ps.words[:1] in (["CREATE"], ["ALTER"]):
        return
    nested = ps.routine.nested if ps.routine is not None else []
    keep = {id(u) for n in nested for u in n.units}
    for unit in ps.units:
        if unit.tree is not None and id(unit) not in keep:
            for node in unit.nodes:
                node.parent = None
