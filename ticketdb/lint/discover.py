"""Which files a lint run reads, in which order, each parsed once per process: the project's
default folders, migrations in apply order with their rollbacks, and the files a script
``source``s (next to it first, then the working directory).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ticketdb.errors import UsageError
from ticketdb.lint import parallel
from ticketdb.lint.parse.files import load, role_of
from ticketdb.lint.parse.model import SourceFile
from ticketdb.lint.parse.stream import load_streamed
from ticketdb.project import Project

_cache: dict[tuple[str, int, int, str, str], SourceFile] = {}


def display_path(path: Path) -> str:
    """Relative to the cwd when the file is below it (like a compiler), else absolute."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(absolute)


def load_cached(path: Path, object_dirs: set[Path] | None = None) -> SourceFile:
    """Parsed files are cached by (path, mtime, size): repeated runs in one process are cheap.
    ``object_dirs``: the project's procedures/, triggers/, events/ (others are scripts)."""
    st = path.stat()
    disp = display_path(path)
    role = role_of(path, object_dirs)
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, disp, role)
    src = _cache.get(key)
    if src is None:
        smaller = (parallel.MIN_BYTES, parallel.worth) if parallel.jobs() > 1 else None
        src = load_streamed(path, disp, role, smaller) or load(path, disp, role=role)
        _cache[key] = src
    return src


def default_paths(project: Project) -> list[Path]:
    return [
        p for p in [project.migrations, *project.repeatable_dirs(), project.queries] if p.is_dir()
    ]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or directory")
        if p.is_dir():
            found = sorted(p.rglob("*.sql"))
            found += sorted(x for x in p.rglob("*.py") if x.parent.name == "migrations")
            out.extend(sorted(found))
        else:
            out.append(p)
    seen: set[Path] = set()
    unique = []
    for p in out:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(p)
    return unique


def migration_files(folder: Path) -> list[Path]:
    """Versioned migrations in apply order (file name order, as yoyo sorts them)."""
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.iterdir()
        if (p.suffix == ".sql" and not p.name.endswith(".rollback.sql"))
        or (p.suffix == ".py" and not p.name.startswith("_"))
    ]
    return sorted(files, key=lambda p: p.name)


def rollback_of(path: Path) -> Path:
    return path.with_name(path.name[: -len(".sql")] + ".rollback.sql")


def resolve_source(src: SourceFile, name: str) -> Path | None:
    """The file ``source name`` in ``src`` reads. The mysql client opens the name as given,
    so relative to its working directory; scripts are run from their own folder as a rule
    (``cd sql && mysql < upgrade.sql``), so the sourcing file's folder is tried first, then
    the working directory. None when neither has it."""
    if not name:
        return None
    given = Path(name).expanduser()
    candidates = [given] if given.is_absolute() else [src.path.parent / given, Path.cwd() / given]
    return next((c for c in candidates if c.is_file()), None)


def load_sourced(path: Path, object_dirs: set[Path] | None) -> SourceFile | OSError:
    """A sourced file, or why it cannot be read (a finding, never a traceback)."""
    try:
        return load_cached(path, object_dirs)
    except OSError as exc:
        return exc


def sourced_files(
    src: SourceFile, object_dirs: set[Path] | None, stack: tuple[Path, ...] = ()
) -> Iterator[Path]:
    """Every file ``src`` sources, directly or through the files it sources (cycles cut)."""
    stack = (*stack, src.path.resolve())
    for _, name in src.sources:
        path = resolve_source(src, name)
        if path is None or path.resolve() in stack:
            continue
        yield path.resolve()
        sub = load_sourced(path, object_dirs)
        if isinstance(sub, SourceFile):
            yield from sourced_files(sub, object_dirs, stack)
