"""Real servers for tests: one sandbox mariadbd per session (or TICKETDB_TEST_DSN), a fresh
database per test, and a MySQL 8.4 testcontainer when a Docker engine answers."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import accounts as accounts_helper
import orphans
import pymysql
import pytest
import redis

from ticketdb import PROJECT_ROOT
from ticketdb import migrate as mig
from ticketdb.db import connect, connection, quote_ident
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.project import Project
from ticketdb.server import databases
from ticketdb.server.sandbox import Sandbox, free_port

REPO = PROJECT_ROOT
#: how make test spreads the suite over xdist workers
pytest_plugins = ["xdist_workers"]


#: where sessions start servers: the per-checkout temp roots and the Galera clusters' folders
TEMP_ROOTS = ("ticketdb-pytest-*", "ticketdb-galera-*")


def pytest_configure(config: pytest.Config) -> None:
    """Kill the servers of killed sessions (tests/orphans.py) before this session clears its temp
    root. One pytest temp root per checkout: pytest prunes old ``pytest-N`` folders under the
    shared ``/tmp/pytest-of-<user>``, which deleted the live sandbox data dir of another
    checkout's run (two clones, or a CI run beside a work tree) and crashed its mariadbd."""
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller did both
    tmp = Path(tempfile.gettempdir())
    roots = [p for pattern in TEMP_ROOTS for p in sorted(tmp.glob(pattern))]
    # the Galera folders and the roots of second sessions (below) go once their owner is gone
    spare = [*tmp.glob("ticketdb-galera-*"), *tmp.glob("ticketdb-pytest-*-*")]
    for line in orphans.sweep(roots, remove=sorted(spare)):
        sys.stderr.write(f"tests/conftest.py: {line}\n")
    if config.option.basetemp is None:
        tag = hashlib.sha1(str(config.rootpath).encode()).hexdigest()[:8]
        root = tmp / f"ticketdb-pytest-{tag}"
        if orphans.in_use(root):  # a suite of this checkout still runs: clearing its root
            root = tmp / f"ticketdb-pytest-{tag}-{os.getpid()}"  # deleted its servers' files
        config.option.basetemp = str(root)


@pytest.fixture(scope="session", autouse=True)
def _servers_owner(tmp_path_factory: pytest.TempPathFactory) -> None:
    """This process owns the servers started below its temp root (tests/orphans.py)."""
    orphans.claim(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def project() -> Project:
    return Project(REPO)


@pytest.fixture(scope="session")
def server_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DSN]:
    """A running server: TICKETDB_TEST_DSN when set, else a sandbox in a temp dir."""
    env = os.environ.get("TICKETDB_TEST_DSN")
    if env:
        yield DSN.parse(env)
        return
    box = Sandbox(tmp_path_factory.mktemp("sandbox"))
    dsn = box.start()
    try:
        yield dsn
    finally:
        box.stop()


def _docker_engine() -> str | None:
    """Why Docker is unusable, or None when an engine answers (checked without hanging)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        path = host[len("unix://") :]
        if not Path(path).exists():
            return f"no Docker engine: {path} does not exist"
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(path)
        except OSError as exc:
            return f"no Docker engine answering on {path}: {exc}"
    return None


@pytest.fixture(scope="session")
def mysql84_dsn() -> Iterator[DSN]:
    """MySQL 8.4 in a testcontainer; skipped with the reason when there is no Docker engine."""
    reason = _docker_engine()
    if reason:
        pytest.skip(reason)
    try:
        from testcontainers.mysql import MySqlContainer

        container = MySqlContainer("mysql:8.4", username="root", password="test").with_command(
            "--event-scheduler=ON --local-infile=1 --log-bin-trust-function-creators=1"
        )
        container.start()
    except Exception as exc:  # DockerException, image pull failure, …
        pytest.skip(f"MySQL 8.4 testcontainer unavailable: {exc}")
    try:
        yield DSN(
            host=container.get_container_host_ip(),
            port=int(container.get_exposed_port(3306)),
            user="root",
            password="test",
            database="ticketdb",
        )
    finally:
        container.stop()


@pytest.fixture(params=["mariadb", pytest.param("mysql84", marks=pytest.mark.mysql84)])
def backend_dsn(request: pytest.FixtureRequest) -> DSN:
    """Parametrize a test over both flavours (MySQL 8.4 skips without Docker)."""
    if request.param == "mariadb":
        return request.getfixturevalue("server_dsn")
    return request.getfixturevalue("mysql84_dsn")


def _fresh_database(server: DSN) -> Iterator[DSN]:
    """A database name of its own (created by the test, e.g. by ``migrate up``), always dropped."""
    with databases.scratch_database(server, "test", create=False) as dsn:
        yield dsn


@pytest.fixture
def db_dsn(server_dsn: DSN) -> Iterator[DSN]:
    """DSN of a database that does not exist yet (dropped after the test)."""
    yield from _fresh_database(server_dsn)


@pytest.fixture
def any_db_dsn(backend_dsn: DSN) -> Iterator[DSN]:
    """Like db_dsn, on each backend."""
    yield from _fresh_database(backend_dsn)


@pytest.fixture
def migrated_dsn(db_dsn: DSN, project: Project) -> DSN:
    """A fresh database with every migration and repeatable object applied."""
    mig.up(db_dsn, project)
    return db_dsn


@pytest.fixture(scope="module")
def module_migrated_dsn(server_dsn: DSN, project: Project) -> Iterator[DSN]:
    """One migrated database shared by a module's tests (each resets what it relies on):
    for large matrices where migrating per test would dominate the run time."""
    for dsn in _fresh_database(server_dsn):
        mig.up(dsn, project)
        yield dsn


@pytest.fixture
def conn(migrated_dsn: DSN) -> Iterator[pymysql.connections.Connection]:
    """Autocommit connection (strict sql_mode) to a freshly migrated database."""
    c = connect(migrated_dsn)
    yield c
    c.close()


@pytest.fixture
def env() -> dict[str, str]:
    """A password for each account of grants/, by environment variable."""
    return accounts_helper.passwords()


@pytest.fixture
def accounts(migrated_dsn: DSN, server_dsn: DSN, env: dict[str, str]) -> Iterator[dict[str, DSN]]:
    """The accounts of grants/ on ``migrated_dsn``'s schema (tests/accounts.py), by user name;
    dropped afterwards. Skipped where the server is not reached over loopback."""
    if not accounts_helper.is_local(server_dsn):
        pytest.skip("account tests connect over TCP from 127.0.0.1 to a local server")
    try:
        yield accounts_helper.create(migrated_dsn, env)
    finally:
        accounts_helper.drop_test_accounts(server_dsn)


@pytest.fixture
def project_copy(tmp_path: Path) -> Project:
    """A writable copy of the repo's SQL folders, for tests that edit or add files."""
    for name in ("migrations", "procedures", "triggers", "events", "queries"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (tmp_path / name).mkdir()
    return Project(tmp_path)


@pytest.fixture
def event_scheduler(server_dsn: DSN) -> None:
    """Skip tests that wait for an event to fire when the server's scheduler is off (only
    possible with TICKETDB_TEST_DSN: the sandbox always runs with event_scheduler=ON)."""
    c = connect(server_dsn, database=False)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.event_scheduler")
            state = str(cur.fetchone()[0]).upper()
    finally:
        c.close()
    if state not in ("ON", "1"):
        pytest.skip(f"event_scheduler is {state} on {server_dsn}: events never fire there")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free port, in a temp dir, no persistence (never 6379)."""
    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server not installed (scripts/system-deps.sh installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path_factory.mktemp("redis")),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.skip("redis-server did not answer within 5 s")
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def galera_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A 3-node Galera cluster on loopback (ticketdb.server.cluster), killed at the end even on
    failure (and by the next session's sweep when this one is killed from outside); skipped
    with the reason where galera-4 / rsync / mariadbd are missing or it cannot start."""
    from ticketdb.server.cluster import Cluster, galera_provider

    if galera_provider() is None:
        pytest.skip("galera-4 is not installed (scripts/system-deps.sh installs it)")
    if shutil.which("rsync") is None:
        pytest.skip("rsync is not installed (needed for the state transfer)")
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one cluster per run: the workers share a root
        try:
            (tmp_path_factory.getbasetemp().parent / "galera-worker").touch(exist_ok=False)
        except FileExistsError:
            pytest.fail("a second xdist worker asks for the Galera cluster: the Galera tests "
                        "were spread over workers (tests/xdist_workers.py)")  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix="ticketdb-galera-"))
    root.chmod(0o755)  # the nodes run as user mysql when we are root
    orphans.claim(root)
    cluster = Cluster(root / "cluster", nodes=3)
    try:
        try:
            cluster.start()
        except TicketdbError as exc:
            pytest.skip(f"cannot start a Galera cluster here: {exc}")
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def galera_database(
    galera_cluster: Any,
) -> Callable[[str], AbstractContextManager[list[DSN]]]:
    """``with galera_database("prefix") as dsns``: a database name of its own on the cluster,
    one DSN per node (nothing created); dropped at the end through the first node that takes
    the statement (the drop replicates to the others): a test may have killed a node, or left
    one outside the primary component (1047)."""

    @contextmanager
    def database(prefix: str) -> Iterator[list[DSN]]:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        dsns = galera_cluster.dsns(name)
        try:
            yield dsns
        finally:
            failed: list[str] = []
            for d in dsns:
                try:
                    with connection(d, database=False) as c, c.cursor() as cur:
                        cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
                    break
                except (TicketdbError, pymysql.MySQLError) as exc:
                    failed.append(f"{d.host}:{d.port}: {exc}")
            else:
                raise AssertionError(f"no node dropped {name}: " + "; ".join(failed))

    return database
