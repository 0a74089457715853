"""``--diff REF``: which files changed since a git ref, and the migrations as they were there."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from ticketdb.errors import UsageError
from ticketdb.lint.context import DiffInfo
from ticketdb.lint.parse.files import load
from ticketdb.lint.schema import Schema


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise UsageError("--diff needs git on PATH") from None
    if check and proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc


def diff_info(
    project_root: Path, migrations: Path, ref: str, display: Callable[[Path], str]
) -> tuple[DiffInfo, set[Path]]:
    """Changed files (tracked diff against ``ref`` plus untracked) and the schema at ``ref``."""
    if ref.startswith("-"):
        raise UsageError(f"bad git ref {ref!r}")
    if _git(
        project_root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False
    ).returncode:
        raise UsageError(f"--diff: {ref!r} is not a git commit/branch/tag in {project_root}")
    top = Path(_git(project_root, "rev-parse", "--show-toplevel").stdout.strip())
    names = _git(project_root, "diff", "--name-only", ref, "--").stdout.splitlines()
    changed = {(top / n).resolve() for n in names if n}
    # untracked: ls-files prints paths relative to the directory git runs in (project_root)
    changed |= {
        (project_root / n).resolve()
        for n in _git(
            project_root, "ls-files", "--others", "--exclude-standard"
        ).stdout.splitlines()
    }
    changed = {p for p in changed if p.exists()}

    mig_rel = migrations.resolve().relative_to(top).as_posix()
    listing = _git(project_root, "ls-tree", "--name-only", f"{ref}:{mig_rel}", check=False)
    at_ref = set(listing.stdout.split()) if listing.returncode == 0 else set()
    base_texts: dict[str, str | None] = {}
    ref_schema = Schema()
    for name in sorted(at_ref):
        text = _git(project_root, "show", f"{ref}:{mig_rel}/{name}").stdout
        path = migrations / name
        disp = display(path)
        base_texts[disp] = text
        if name.endswith(".rollback.sql") or not (name.endswith(".sql") or name.endswith(".py")):
            continue
        src = load(path, disp, text)
        for st in src.statements:
            ref_schema.apply(st, disp)
    for p in changed:
        if p.parent == migrations.resolve() and display(p) not in base_texts:
            base_texts[display(p)] = None
    info = DiffInfo(ref, base_texts, ref_schema, sorted(display(p) for p in changed))
    return info, changed
