"""A full disk: a sandbox that cannot allocate its redo log names "no space left", and a seed
that runs out of space mid-load leaves a whole schema (or says exactly what is missing) and
tickets that agree with their logs. The datadir is a small tmpfs (mount needs root: skipped
with the reason otherwise)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import clean, run, schema_shape

from ticketdb import migrate as mig
from ticketdb.db import connect, scalar
from ticketdb.migrate.ledger import pending
from ticketdb.project import Project
from ticketdb.server.sandbox import Sandbox


def _mount(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip() or res.returncode}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "disk"
    _mount(where, "700m")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], timeout=60)


def test_sandbox_on_a_full_disk_names_the_cause(tmp_path: Path) -> None:
    where = tmp_path / "tiny"
    _mount(where, "60m")
    try:
        res = run("sandbox", "start", "--dir", str(where / "box"))
    finally:
        run("sandbox", "stop", "--dir", str(where / "box"))
        subprocess.run(["umount", "-l", str(where)], timeout=60)
    text = clean(res)
    assert res.returncode == 1, text
    errors = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1, text
    assert "no space left" in errors[0], text


def test_seed_on_a_full_disk_leaves_a_whole_schema_and_agreeing_tables(
    small_disk: Path, project: Project
) -> None:
    box = Sandbox(small_disk / "box")
    dsn = box.start()
    try:
        mig.up(dsn, project)
        conn = connect(dsn)
        try:
            reference = schema_shape(conn)
        finally:
            conn.close()
        filler = small_disk / "filler"
        with open(filler, "wb") as f:  # leave ~120 MB: 150k tickets need about 100 MB more
            os.posix_fallocate(f.fileno(), 0, shutil.disk_usage(small_disk).free - (120 << 20))
        res = run("seed", "--dsn", dsn.url(), "--tickets", "150000", "--months", "2",
                  timeout=300)  # fmt: skip
        text = clean(res)
        assert res.returncode == 1, text
        errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error")]
        assert len(errors) == 1 and "disk" in errors[0], text
        filler.unlink()  # room for the test's own queries; the seed's aftermath stays as it was
        conn = connect(dsn)
        try:
            left = pending(conn)
            shape = schema_shape(conn)
            tickets = scalar(conn, "SELECT COUNT(*) FROM service_tickets")
            logs = scalar(conn, "SELECT COUNT(*) FROM ticket_logs")
        finally:
            conn.close()
        # what is not back (with no byte left even the cheap triggers may fail) is in the
        # ledger, and the message names each of them
        missing = set(reference["triggers"]) - set(shape["triggers"])  # type: ignore[call-overload]
        assert missing <= {name for _kind, _table, name in left}, (missing, left)
        for _kind, _table, name in left:
            assert name in errors[0], (left, text)
        print(f"seed on a full disk: {len(left)} object(s) left for migrate up: {errors[0]}")
        assert (tickets == 0) == (logs == 0), (tickets, logs)
        res = run("migrate", "up", "--dsn", dsn.url())
        assert res.returncode == 0, clean(res)
        res = run("doctor", "--dsn", dsn.url())
        assert res.returncode == 0, clean(res)
        conn = connect(dsn)
        try:
            assert schema_shape(conn) == reference
        finally:
            conn.close()
    finally:
        box.stop()
