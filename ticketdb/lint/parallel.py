"""Check a big streamed script on several cores: forked workers, one segment of the file each.

Why: parsing routine bodies is most of a lint run, and one Python process uses one core. The
parse trees cannot be sent between processes cheaply (pickling them costs more than parsing),
so each worker parses and checks a segment itself and sends back only its findings.

How: the file is cut at region starts (parse/stream.py) into one segment per process. A worker
is forked with the schema as it is at the start of the file; it first applies the statements
before its segment, read the schema-only way (routine headers, no bodies: parse/light.py), then
checks its segment exactly as a single process would, and sends back the raw findings, parse
errors and notes it made, and the schema model as its segment left it (tables and routines;
of the parse trees only the column definitions of CREATE/ALTER TABLE: small). The parent
checks the first segment meanwhile, then takes each worker's answer in file order, so the
schema is the same at every point as in a single process. A worker that fails, or has not
answered in far more time than the parent needed, is killed and its segment is checked by
the parent: the findings never depend on the workers. Only on Linux (fork), with more than
one usable CPU, in a process without other threads; ``TICKETDB_LINT_JOBS`` sets the number
of processes (1: none).
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ticketdb.lint.parse.model import ParsedStatement, SourceFile
from ticketdb.lint.parse.stream import segment
from ticketdb.lint.registry import Rule
from ticketdb.lint.schema import Schema, apply_quietly

#: at most this many processes check one file
MAX_JOBS = 4
#: a script of this size and as many lines is checked in parallel (parse/stream.py streams
#: it for that); a dump of a few megabyte-long INSERT lines is cheap to check, not worth it
MIN_BYTES = 256 * 1024
MIN_LINES = 5_000
#: the first segment (the parent's) is this much bigger than the others: a worker first
#: applies the segments before its own, schema-only (about a tenth of checking them)
FIRST_SHARE = 1.1
#: a worker may take this many times what the parent took for its segment, plus GRACE seconds
SLOWER = 4.0
GRACE = 30.0


def jobs() -> int:
    """How many processes may check one file here (1: no workers)."""
    wanted = os.environ.get("TICKETDB_LINT_JOBS", "").strip()
    if wanted.isdigit() and int(wanted) >= 1:
        limit = int(wanted)
    else:
        try:
            limit = min(len(os.sched_getaffinity(0)), MAX_JOBS)
        except AttributeError:  # pragma: no cover - not Linux
            limit = 1
    if not sys.platform.startswith("linux") or not _alone():
        return 1  # fork is only safe (and cheap) there, and without other threads
    return max(1, limit)


def _alone() -> bool:
    """No other thread runs: a forked child has only the thread that forked, and a lock that
    another thread held at the fork would stay held there for ever."""
    return threading.active_count() == 1


def worth(text: str) -> bool:
    """Is a script this big worth the workers?"""
    return len(text) >= MIN_BYTES and text.count("\n") >= MIN_LINES


def jobs_for(src: SourceFile) -> int:
    """Processes for checking ``src``: a streamed script worth it."""
    return jobs() if src.streamed and worth(src.text) else 1


def cuts(size: int, n: int) -> list[int]:
    """Where the ``n`` segments of a text of ``size`` characters should start (after the
    first): the walk ends each segment at the first region start from there."""
    first = min(size, int(size * FIRST_SHARE / (n - 1 + FIRST_SHARE)))
    rest = (size - first) / (n - 1)
    return [first + int(rest * k) for k in range(n - 1)]


@dataclass
class Part:
    """What a worker sends back: the segment it checked, what checking it made, and the
    schema after it (a schema model is small: the parent takes it instead of applying the
    segment again)."""

    start: int
    end: int
    raw: list[tuple[int, str, str]]  # (offset, rule code, message)
    errors: list[tuple[int, str]]
    notes: list[tuple[int, str]]
    schema: Schema | None


class Worker:
    """A forked process running ``work``; its result comes back pickled through a pipe.
    Ctrl-C and SIGTERM end the parent through its error boundary, which kills the workers
    (``close`` in a ``finally``); a parent killed outright leaves a worker to end on its own
    when its segment is done (its answer then meets a closed pipe)."""

    def __init__(self, work: Callable[[], Part]) -> None:
        read, write = os.pipe()
        gc.freeze()  # the child's collections then leave the parent's objects (and pages) alone
        try:
            self.pid = os.fork()
        finally:
            gc.unfreeze()
        if self.pid == 0:  # pragma: no cover - the child (coverage does not follow a fork)
            os.close(read)
            _child(work, write)
        os.close(write)
        self.fd: int | None = read

    def result(self, timeout: float) -> Part | None:
        """The worker's Part, or None when it failed or did not answer within ``timeout``
        seconds (then it is killed)."""
        chunks: list[bytes] = []
        deadline = time.monotonic() + timeout
        assert self.fd is not None
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                self.close()
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        self.close()
        try:
            got = pickle.loads(b"".join(chunks))
        except Exception:
            return None
        return got if isinstance(got, Part) else None

    def close(self) -> None:
        """End the worker (if it still runs) and reap it: no process outlives the run."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = 0


def _child(work: Callable[[], Part], fd: int) -> None:  # pragma: no cover - runs in the child
    """Run ``work`` and write its pickled Part; never return (no clean-up of the parent's
    state, no buffered output flushed twice). Ctrl-C is the parent's to report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = 1
    try:
        data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        code = 0
    except BaseException:  # noqa: BLE001 - the parent checks the segment itself
        pass
    os._exit(code)


#: the engine's check of statements (``_Run.check`` in lint/engine.py): src, statements,
#: schema, final schema, apply?, rules, shapes found clean
Check = Callable[
    [SourceFile, Iterable[ParsedStatement], Schema, Schema | None, bool, list[Rule], set[str]],
    None,
]


def check_file(
    check: Check,
    raw: list[tuple[SourceFile, int, str, str]],
    src: SourceFile,
    schemas: tuple[Schema, Schema | None, bool],
    rules: list[Rule],
    n: int,
) -> None:
    """``check`` over the statements of a big streamed script, in ``n`` processes: the same
    findings (appended to ``raw``, the run's), errors and schema as in one. ``schemas``: the
    schema to check against and apply to, the final one, whether to apply."""
    schema, final, apply = schemas
    starts = cuts(len(src.text), n)

    def checked(start: int, stop: int | None) -> int:  # where that segment ended
        clean: set[str] = set()
        walk = segment(src, start, clean.__contains__, stop)
        check(src, walk, schema, final, apply, rules, clean)
        return walk.end

    def part(k: int) -> Part:  # in worker k: segment k, after the schema before it
        before = segment(src, 0, None, starts[k - 1])
        for st in before:
            if apply:
                apply_quietly(schema, st, src.display)
        had, errors, notes = len(raw), len(src.errors), len(src.notes)
        end = checked(before.end, starts[k] if k < n - 1 else None)
        found = [(at, code, message) for _, at, code, message in raw[had:]]
        made = src.errors[errors:], src.notes[notes:]
        return Part(before.end, end, found, *made, schema if apply else None)

    workers = [Worker(lambda k=k: part(k)) for k in range(1, n)]
    try:
        began = time.monotonic()
        pos = checked(0, starts[0])
        spent = time.monotonic() - began
        for k, worker in enumerate(workers, 1):
            got = worker.result(SLOWER * spent + GRACE)
            if got is None or got.start != pos:  # it failed: that segment is checked here
                pos = checked(pos, starts[k] if k < n - 1 else None)
                continue
            raw.extend((src, at, code, message) for at, code, message in got.raw)
            src.errors.extend(e for e in got.errors if e not in src.errors)
            src.notes.extend(e for e in got.notes if e not in src.notes)
            if got.schema is not None:
                schema.take(got.schema)  # the schema after that segment
            pos = got.end
    finally:
        for worker in workers:
            worker.close()
