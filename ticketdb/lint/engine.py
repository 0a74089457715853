"""Run the registered rules over files: build the schema from the versioned migrations in order,
check each statement against the schema at that point, then apply inline suppressions and the
configured severities. Which files, in which order: ticketdb.lint.discover; severities from
config: ticketdb.lint.config; suppressions: ticketdb.lint.suppress.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from ticketdb.lint import parallel
from ticketdb.lint.context import (
    DiffInfo,
    FileContext,
    ProjectContext,
    StatementContext,
    WholeRun,
)
from ticketdb.lint.discover import (
    default_paths,
    display_path,
    expand_paths,
    load_cached,
    load_sourced,
    migration_files,
    resolve_source,
    rollback_of,
    sourced_files,
)
from ticketdb.lint.findings import Finding
from ticketdb.lint.parse.model import ParsedStatement, SourceFile
from ticketdb.lint.parse.stream import statements_of
from ticketdb.lint.registry import Rule, load_rules
from ticketdb.lint.schema import Schema, apply_quietly, routine_entry
from ticketdb.lint.suppress import finish
from ticketdb.project import Project

SOURCE_CODE = "TDB032"
#: what Schema.add_routine records: (lower name, (kind, number of parameters))
Routine = tuple[str, tuple[str, int]]  # a `source` command that cannot be followed


@dataclass
class LintResult:
    findings: list[Finding]
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")


# -- the run ----------------------------------------------------------------------------------
class _Run:
    def __init__(
        self,
        rules: dict[str, type[Rule]],
        levels: dict[str, str],
        object_dirs: set[Path] | None = None,
    ):
        self.rules = [cls() for cls in rules.values()]
        self.levels = levels
        self.defaults = {code: cls.severity for code, cls in rules.items()}
        self.raw: list[tuple[SourceFile, int, str, str]] = []  # file, offset, code, message
        self.files: dict[str, SourceFile] = {}
        self.whole_run: WholeRun | None = None
        self.object_dirs = object_dirs
        #: files read through `source` (display path -> file): linted as part of the run
        self.sourced: dict[str, SourceFile] = {}

    def active(self) -> list[Rule]:
        return [r for r in self.rules if self.levels.get(r.code) != "off"]

    def statements(
        self,
        src: SourceFile,
        schema: Schema,
        final: Schema | None,
        apply: bool,
        check: bool = True,
        stack: tuple[Path, ...] = (),
    ) -> None:
        """Check each statement against ``schema`` as it is at that point, then apply it. A
        ``source`` command runs its file right there, against and into the same schema."""
        # rules without statement checks are not asked 800 times for nothing
        rules = [r for r in self.active() if type(r).check_statement is not Rule.check_statement]
        rules = rules if check else []
        schema.own_databases.update(db.lower() for db in src.uses)
        stack = (*stack, src.path.resolve())
        pending = sorted(src.sources)
        n = parallel.jobs_for(src) if check and not pending else 1
        if n > 1:
            parallel.check_file(self.check, self.raw, src, (schema, final, apply), rules, n)
            return
        clean: set[str] = set()  # shapes checked without findings against the schema as it is
        sts = statements_of(src, clean.__contains__ if check else None)
        self.check(src, sts, schema, final, apply, rules, clean, (pending, check, stack))
        for at, name in pending:
            self.source(src, at, name, schema, final, apply, check, stack)

    def check(
        self,
        src: SourceFile,
        sts: Iterable[ParsedStatement],
        schema: Schema,
        final: Schema | None,
        apply: bool,
        rules: list[Rule],
        clean: set[str],
        sources: tuple[list[tuple[int, str]], bool, tuple[Path, ...]] = ([], True, ()),
    ) -> None:
        """Run ``rules`` on each of ``sts`` and apply it; ``clean`` gathers the shapes that gave
        no finding against the schema as it is; ``sources``: the ``source`` commands to follow
        on the way (offset, name), whether to check them, the files being read."""
        pending, check, stack = sources
        for st in sts:
            while pending and pending[0][0] < st.offset:
                at, name = pending.pop(0)
                self.source(src, at, name, schema, final, apply, check, stack)
            ctx = StatementContext(src, st, schema, final or schema, whole_run=self.whole_run)
            found = len(self.raw)
            for rule in rules:
                self.collect(src, st.offset, rule, rule.check_statement, ctx)
            if st.shape is None:
                if st.words[:1] not in (["LOCK"], ["UNLOCK"], ["COMMIT"], ["START"]):
                    clean.clear()  # the schema may change: every shape is looked at again
            elif len(self.raw) == found and not st.errors:
                clean.add(st.shape)
            if apply:
                try:
                    schema.apply(st, src.display)
                except Exception as exc:  # a model bug must not hide the other findings
                    self.raw.append((src, st.offset, "TDB000", f"internal error: {exc!r}"))

    def source(
        self,
        src: SourceFile,
        offset: int,
        name: str,
        schema: Schema,
        final: Schema | None,
        apply: bool,
        check: bool,
        stack: tuple[Path, ...],
    ) -> None:
        """``source name`` at ``offset`` of ``src``: lint that file at this point of the run;
        a file that is not there, or one already being read (a cycle), is a finding."""
        path = resolve_source(src, name)
        if path is None:
            where = f"{display_path(src.path.parent)}/ or the working directory"
            message = f"`source {name}`: no such file in {where}; nothing in it was checked"
            self.raw.append((src, offset, SOURCE_CODE, message))
            return
        if path.resolve() in stack:
            chain = [p.name for p in stack[stack.index(path.resolve()) :]] + [path.name]
            message = (
                f"`source {name}` is a cycle ({' -> '.join(chain)}): the mysql client would "
                "read these files without end; not followed again"
            )
            self.raw.append((src, offset, SOURCE_CODE, message))
            return
        sub = load_sourced(path, self.object_dirs)
        if isinstance(sub, OSError):
            message = f"`source {name}`: cannot read {path}: {sub.strerror or sub}"
            self.raw.append((src, offset, SOURCE_CODE, message))
            return
        self.files.setdefault(sub.display, sub)
        self.sourced.setdefault(sub.display, sub)
        self.statements(sub, schema, final, apply and sub.role != "rollback", check, stack)

    def collect(
        self, src: SourceFile, offset: int, rule: Rule, check: Callable[[Any], Any], ctx: Any
    ) -> None:
        """Run one rule; a crash in a rule becomes a finding of that rule, not a traceback."""
        try:
            for at, message in check(ctx):
                self.raw.append((src, at, rule.code, message))
        except Exception as exc:
            self.raw.append((src, offset, rule.code, f"internal error in {rule.name}: {exc!r}"))

    def file_checks(self, src: SourceFile, final: Schema, diff: DiffInfo | None) -> None:
        siblings = (
            {p.name for p in src.path.parent.iterdir()} if src.path.parent.is_dir() else set()
        )
        ctx = FileContext(src, final, siblings, diff)
        for rule in self.active():
            self.collect(src, 0, rule, rule.check_file, ctx)


P = ParamSpec("P")
R = TypeVar("R")


def _gc_paused(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with the cyclic garbage collector paused: a lint run allocates a million
    objects that all stay alive until it ends (tokens, trees), so each automatic collection
    walked a growing heap for nothing (a sixth of a routine-heavy run, nearly half of a
    168k-line one); the few cycles made are freed after."""

    @functools.wraps(func)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused


@_gc_paused
def lint(
    project: Project,
    paths: list[Path] | None = None,
    *,
    levels: dict[str, str] | None = None,
    diff: DiffInfo | None = None,
    only: set[Path] | None = None,
) -> LintResult:
    """Lint ``paths`` (default: the project's SQL folders). ``only`` narrows the files linted
    (``--diff``); the schema is always built from every migration."""
    rules = load_rules()
    targets = expand_paths(paths if paths is not None else default_paths(project))
    if only is not None:
        only_resolved = {p.resolve() for p in only}
        targets = [t for t in targets if t.resolve() in only_resolved]
    target_set = {t.resolve() for t in targets}
    mig_dir = project.migrations.resolve()

    # 0. every procedure/function of the project and of the linted files, so a CALL may name
    #    one defined in another file (or later in the same one); a streamed script's are read
    #    by the dry run
    schema = Schema()
    object_dirs = {d.resolve() for d in project.repeatable_dirs()}
    run = _Run(rules, levels or {}, object_dirs)
    object_files = [p for d in project.repeatable_dirs() if d.is_dir() for p in d.glob("*.sql")]
    order: list[SourceFile] = []
    streamed_files: set[Path] = set()
    for path in [*object_files, *targets]:
        if path.suffix == ".sql" and path.exists():
            src = load_cached(path, object_dirs)
            order.append(src)
            if src.streamed:
                streamed_files.add(src.path.resolve())
                if src.stream_cache is None and parallel.jobs_for(src) > 1:
                    src.stream_cache = []  # parsed once, in parallel: nothing kept by the dry run

    def routines(streamed: dict[Path, list[Routine]]) -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        for src in order:  # in file order, as if every file had been read whole (last wins)
            entries = streamed.get(src.path.resolve()) if src.streamed else None
            found.update(entries or filter(None, map(routine_entry, src.statements)))
        return found

    # 1. a dry run over everything, so that routine bodies (and queries) can name tables that
    #    only exist later (in a later file, a later migration, a temporary table, dynamic SQL)
    #    and CALL procedures defined later: done when a statement first needs it (WholeRun)
    query_files = sorted(project.queries.glob("*.sql")) if project.queries.is_dir() else []

    def dry_run() -> tuple[Schema, dict[str, tuple[str, int]]]:
        streamed: dict[Path, list[Routine]] = {p: [] for p in streamed_files}
        files = [*targets, *object_files, *query_files]
        tables = _whole_run(Schema(), project, files, mig_dir, object_dirs, streamed)
        return tables, routines(streamed)

    run.whole_run = WholeRun(dry_run, None if streamed_files else routines({}))

    # 2. migrations in order: lint the targeted ones against the schema *before* each statement
    for path in migration_files(project.migrations):
        src = load_cached(path)
        run.files[src.display] = src
        run.statements(src, schema, None, apply=True, check=path.resolve() in target_set)
        rb = rollback_of(path)
        if rb.resolve() in target_set:  # an undo runs against the schema its migration made
            rsrc = load_cached(rb)
            run.files[rsrc.display] = rsrc
            run.statements(rsrc, schema.copy(), None, apply=True)

    # 3. other files (objects, scripts, third-party dumps), each on top of the migrated schema;
    #    statements are checked against the schema at their point in the file, in file order
    #    A target that another target sources is linted where it is sourced (its tables are
    #    made by, and used by, the file around it), not on its own
    final = schema
    loaded = set(run.files)
    sourced: set[Path] = set()
    for path in targets:
        if path.suffix == ".sql" and path.resolve().parent != mig_dir:
            sourced.update(sourced_files(load_cached(path, object_dirs), object_dirs))
    for path in sorted(targets, key=lambda p: p.resolve() in sourced):
        disp = display_path(path)
        if disp in loaded and path.resolve().parent == mig_dir:
            continue
        if path.resolve() in sourced and disp in run.sourced:
            continue  # already linted where it is sourced
        src = load_cached(path, object_dirs)
        run.files[src.display] = src
        run.statements(src, final, final, apply=src.role != "rollback")

    # 4. file and project checks
    linted_files = [run.files[display_path(t)] for t in targets]
    target_names = {src.display for src in linted_files}
    linted_files += [sub for disp, sub in run.sourced.items() if disp not in target_names]
    for src in linted_files:
        run.file_checks(src, final, diff)
    linted_names = {src.display for src in linted_files}
    pctx = ProjectContext(final, run.files, diff)
    for rule in run.active():
        try:
            project_findings = list(rule.check_project(pctx))
        except Exception as exc:  # a rule bug: say so, keep the other findings
            first = linted_files[0] if linted_files else None
            if first is not None:
                run.raw.append((first, 0, rule.code, f"internal error in {rule.name}: {exc!r}"))
            continue
        for path_s, offset, message in project_findings:
            src = run.files.get(path_s)
            if src is None and diff is not None and not Path(path_s).exists():
                # a file deleted since the --diff ref: report it under its old name
                src = SourceFile(Path(path_s), path_s, "", "migration")
                run.files[path_s] = src
                linted_names.add(path_s)
                linted_files.append(src)
            if src is not None and path_s in linted_names:
                run.raw.append((src, offset, rule.code, message))

    findings = finish(run.raw, run.levels, run.defaults, linted_files)
    return LintResult(findings, [s.display for s in linted_files])


def _whole_run(
    schema: Schema,
    project: Project,
    targets: list[Path],
    mig_dir: Path,
    object_dirs: set[Path],
    routines: dict[Path, list[Routine]],
) -> Schema:
    """Apply every migration, then every other linted file and the project's object files;
    return each table ever seen. A streamed file's routines are gathered in ``routines``
    here (it is walked once less)."""
    for path in migration_files(project.migrations):
        mig = load_cached(path)
        for st in mig.statements:
            apply_quietly(schema, st, mig.display)
    seen: set[Path] = set()
    for path in targets:
        if path.resolve().parent == mig_dir or path.name.endswith(".rollback.sql"):
            continue
        if path.resolve() in seen or path.suffix != ".sql" or not path.exists():
            continue
        seen.add(path.resolve())
        src = load_cached(path, object_dirs)
        _apply_file(schema, src, object_dirs, (), routines.get(path.resolve()))
    return schema.ever()


def _apply_file(
    schema: Schema,
    src: SourceFile,
    object_dirs: set[Path],
    stack: tuple[Path, ...],
    routines: list[Routine] | None = None,
) -> None:
    """Apply a file's statements, and those of the files it sources at their point."""
    stack = (*stack, src.path.resolve())
    schema.own_databases.update(db.lower() for db in src.uses)
    pending = sorted(src.sources)
    for st in statements_of(src):  # one-line DML changes no schema: not even parsed
        while pending and pending[0][0] < st.offset:
            _apply_sourced(schema, src, pending.pop(0)[1], object_dirs, stack)
        entry = routine_entry(st) if routines is not None else None
        if entry is not None:
            routines.append(entry)  # type: ignore[union-attr]
        apply_quietly(schema, st, src.display)
    for _, name in pending:
        _apply_sourced(schema, src, name, object_dirs, stack)


def _apply_sourced(
    schema: Schema, src: SourceFile, name: str, object_dirs: set[Path], stack: tuple[Path, ...]
) -> None:
    path = resolve_source(src, name)
    if path is None or path.resolve() in stack:
        return  # reported by the checked pass
    sub = load_sourced(path, object_dirs)
    if isinstance(sub, SourceFile):
        _apply_file(schema, sub, object_dirs, stack)


def iter_rules() -> Iterator[type[Rule]]:
    yield from load_rules().values()
