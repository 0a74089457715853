"""Servers left running by a test session that was killed from outside (CI's time limit, a
Ctrl-C that hit twice, kill -9): their mariadbd runs in its own session (``start_new_session``)
so it outlives pytest, holds its port and memory, and has its data dir deleted under it when
the next session of the same checkout clears its temp root.

Each pytest process that may start a server writes an owner record (its pid and the pid's start
time, so a reused pid does not pass for the owner) into the folder it starts servers in. At the
start of a session, every ``mariadbd``/``mysqld`` whose ``--defaults-file``/``--datadir`` lies
in a folder whose owner is gone is killed. Nothing else is touched: a server of a live session,
the system server (its files are not in such a folder), a folder without a record.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

#: the owner record, in the folder whose servers it owns (and in any folder below it)
OWNER = "pytest-owner"
#: the programs a sweep may kill, by the base name of argv[0]
SERVERS = frozenset({"mariadbd", "mysqld"})
#: argv entries that name where a server keeps its files
PATH_OPTIONS = ("--defaults-file=", "--datadir=")


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot), or None when there is no such pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[19]  # after "pid (comm) ": field 3 is [0]


def claim(folder: Path) -> None:
    """Record this process as the owner of the servers started below ``folder``."""
    me = os.getpid()
    (folder / OWNER).write_text(f"{me} {_start_time(me)}\n")


def _owner_alive(record: Path) -> bool:
    """Whether the process recorded in ``record`` still runs (same pid, same start time).
    An unreadable record counts as alive: without proof of death nothing is killed."""
    try:
        pid_text, started = record.read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return True
    return _start_time(pid) == started


def _owner_record(path: Path, top: Path) -> Path | None:
    """The nearest owner record at or above ``path``, looking no higher than ``top``."""
    for folder in (path, *path.parents):
        if (folder / OWNER).is_file():
            return folder / OWNER
        if folder == top:
            return None
    return None


def _servers() -> Iterator[tuple[int, list[Path]]]:
    """(pid, the paths its command line names) of every running mariadbd/mysqld."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if not argv or Path(argv[0]).name not in SERVERS:
            continue
        paths = [Path(a.split("=", 1)[1]) for a in argv[1:] if a.startswith(PATH_OPTIONS)]
        # a relative path was relative to a working directory the server has since left
        yield int(entry.name), [p for p in paths if p.is_absolute()]


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # dead; its parent (init) reaps it
            return True
        time.sleep(0.05)
    return False


def in_use(folder: Path) -> bool:
    """Whether a live session owns servers anywhere below ``folder`` (a running suite of the
    same checkout, whose temp root a second session must not clear)."""
    return folder.is_dir() and any(_owner_alive(r) for r in folder.rglob(OWNER))


def sweep(roots: Iterable[Path], remove: Iterable[Path] = ()) -> list[str]:
    """Kill the servers of dead sessions below ``roots`` (each root is a session's temp folder);
    then delete the ``remove`` folders (among ``roots``) whose owner is gone. Returns one line
    per thing done."""
    roots = [r.resolve() for r in roots if r.is_dir()]
    done: list[str] = []
    for pid, paths in _servers():
        for path in paths:
            top = next((r for r in roots if path.resolve().is_relative_to(r)), None)
            if top is None:
                continue
            record = _owner_record(path.resolve().parent, top)
            if record is None or _owner_alive(record):
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            gone = _wait_gone(pid, 10)
            done.append(
                f"killed mariadbd pid {pid} ({path}) left by the dead pytest session "
                f"{record.read_text().split()[0]}" + ("" if gone else " (still exiting)")
            )
            break
    busy = [path.resolve() for _, paths in _servers() for path in paths]
    for folder in remove:
        folder = folder.resolve()
        records = list(folder.rglob(OWNER)) if folder in roots else []
        if not records or any(_owner_alive(r) for r in records):
            continue
        if not any(path.is_relative_to(folder) for path in busy):
            shutil.rmtree(folder, ignore_errors=True)
            done.append(f"removed {folder} (its pytest session is gone)")
    return done
