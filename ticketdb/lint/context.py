"""What a rule sees: the statement or file being linted, and the schema model at that point."""

from __future__ import annotations

from dataclasses import dataclass, field

from ticketdb.lint.parse.model import ParsedStatement, SourceFile
from ticketdb.lint.schema import Schema


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
    #: every table of the whole run (all migrations and linted files, dropped ones included):
    #: routine bodies are resolved against it, as the server binds them only when they run
    run_schema: Schema | None = None
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
