"""What a rule sees: the statement or file being linted, and the schema model at that point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ticketdb.lint.parse.model import ParsedStatement, SourceFile
from ticketdb.lint.schema import Schema

#: procedures and functions by lower name: (kind, number of parameters), as Schema.routines
Routines = dict[str, tuple[str, int]]


class WholeRun:
    """What the whole run defines, for names a statement uses before (or apart from) where
    they are made: every table of every migration and linted file (dropped ones included) and
    every routine of the streamed scripts, in file order. Worked out by a schema-only pass
    over every file the first time a statement needs it (a name the schema at its point does
    not have): a library whose bodies name only what exists before them never pays for it
    (it was 15 % of linting a 168k-line routine library, before the parallel check starts)."""

    def __init__(
        self, work: Callable[[], tuple[Schema, Routines]], routines: Routines | None = None
    ) -> None:
        """``routines``: the run's routines when they are known without the dry run (no
        streamed script: every other file's statements are parsed when it is loaded)."""
        self._work: Callable[[], tuple[Schema, Routines]] | None = work
        self._schema = Schema()
        self._routines: Routines = routines or {}
        self._known = routines is not None

    @property
    def ready(self) -> bool:
        return self._work is None

    def _get(self) -> None:
        if self._work is not None:
            self._schema, self._routines = self._work()
            self._work = None

    @property
    def schema(self) -> Schema:
        """Every table of the whole run (each as last seen), and its own databases."""
        self._get()
        return self._schema

    @property
    def routines(self) -> Routines:
        """Every procedure and function of the run, the last definition in file order."""
        if not self._known:
            self._get()
        return self._routines


@dataclass
class DiffInfo:
    """``--diff REF``: the migrations as they were at REF."""

    ref: str
    base_texts: dict[str, str | None]  # display path -> text at REF (None: file is new)
    ref_schema: Schema
    changed: list[str]  # display paths changed since REF (tracked diff + untracked)


@dataclass
class StatementContext:
    file: SourceFile
    statement: ParsedStatement
    schema: Schema  # the schema *before* this statement
    final_schema: Schema  # after every migration (and the linted files before this one)
    #: what the whole run defines (all migrations and linted files): routine bodies are resolved
    #: against its tables, as the server binds them only when they run
    whole_run: WholeRun | None = None
    cache: dict[str, object] = field(default_factory=dict)  # shared by the rules of one statement


@dataclass
class FileContext:
    file: SourceFile
    final_schema: Schema
    siblings: set[str] = field(default_factory=set)  # file names in the same folder
    diff: DiffInfo | None = None


@dataclass
class ProjectContext:
    """Whole-schema checks (missing PK, redundant index …) over the final schema. Rules yield
    ``(path, offset, message)``; findings in files that are not linted are dropped."""

    schema: Schema
    files: dict[str, SourceFile]
    diff: DiffInfo | None = None
