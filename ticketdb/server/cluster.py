"""A local MariaDB Galera cluster on loopback: N ``mariadbd`` nodes from the system packages.

Layout: ``DIR/cluster.json`` (base port, node count) and ``DIR/nodeN/`` (data, my.cnf, socket,
pid, error log). Node N serves clients on ``base_port + N - 1``; its group, IST and SST ports are
``base_port + 100/200/300 + N - 1``. Recipe facts (docs/scaling.md, shared notes): as root the
nodes run as user ``mysql`` with their folders owned by it, because the joiner's rsync daemon
drops privileges and could not write a root-owned datadir; every node has its own
``server_id``; a node that was killed rejoins by IST only when started at the position
``mariadbd --wsrep-recover`` reports (that helper is run under a timeout and killed if it hangs:
it once grew to 21 GB). Buffer pool and gcache are kept small: this is a test cluster.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketdb import catalog
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.server.node import PORT_OFFSETS, Node, alive
from ticketdb.server.sandbox import SERVER_SETTINGS, _port_in_use, _which

DEFAULT_CLUSTER_DIR = Path(".ticketdb-cluster")
ENV_CLUSTER_DIR = "TICKETDB_CLUSTER_DIR"
PROVIDERS = (
    "/usr/lib/galera/libgalera_smm.so",
    "/usr/lib/galera-4/libgalera_smm.so",
    "/usr/lib64/galera-4/libgalera_smm.so",
    "/usr/lib64/galera/libgalera_smm.so",
)
_RECOVERED = re.compile(r"Recovered position:?\s+([0-9a-f-]{36}):(-?\d+)")
#: seconds ``--wsrep-recover`` may keep running after it logged the recovered position
_RECOVER_GRACE = 2.0


def _recovered(log: Path) -> list[tuple[str, str]]:
    try:
        return _RECOVERED.findall(log.read_text(errors="replace"))
    except OSError:
        return []


def cluster_dir() -> Path:
    return Path(os.environ.get(ENV_CLUSTER_DIR) or DEFAULT_CLUSTER_DIR)


def galera_provider() -> str | None:
    return next((p for p in PROVIDERS if os.path.exists(p)), None)


@dataclass
class Cluster:
    """The cluster folder; ``nodes`` and ``base_port`` are fixed at the first start."""

    root: Path
    nodes: int | None = None
    base_port: int = 0

    def __post_init__(self) -> None:
        self.root = Path(self.root).absolute()
        state = self._state()
        if state:
            if self.nodes is not None and self.nodes != state["nodes"]:
                raise UsageError(
                    f"cluster in {self.root} has {state['nodes']} nodes; destroy it to change that"
                )
            if self.base_port and self.base_port != state["base_port"]:
                raise UsageError(
                    f"cluster in {self.root} uses base port {state['base_port']}; "
                    "destroy it to change that"
                )
            self.nodes, self.base_port = state["nodes"], state["base_port"]
        elif self.nodes is None:
            self.nodes = 3

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def exists(self) -> bool:
        return bool(self._state())

    def node(self, index: int) -> Node:
        if not 1 <= index <= (self.nodes or 0):
            raise UsageError(f"no node {index}: the cluster has nodes 1..{self.nodes}")
        return Node(self, index)

    def all_nodes(self) -> list[Node]:
        return [Node(self, i) for i in range(1, (self.nodes or 0) + 1)]

    def running(self) -> list[Node]:
        return [n for n in self.all_nodes() if n.pid() is not None]

    def dsns(self, database: str = "ticketdb") -> list[DSN]:
        return [n.dsn(database) for n in self.all_nodes()]

    def multi_dsn(self, database: str = "ticketdb") -> str:
        """One ``mysql://root@h1:p1,h2:p2,…/db`` for clients that fail over between nodes."""
        hosts = ",".join(f"127.0.0.1:{n.port()}" for n in self.all_nodes())
        return f"mysql://root@{hosts}/{database}"

    def status(self) -> list[dict[str, Any]]:
        return [n.status() for n in self.all_nodes()]

    # -- lifecycle -----------------------------------------------------------------------------
    def _choose_base_port(self) -> int:
        nodes = self.nodes or 3
        for base in range(24000, 60000, 400):
            ports = [base + off + i for off in (0, *PORT_OFFSETS.values()) for i in range(nodes)]
            if not any(_port_in_use(p) for p in ports):
                return base
        raise TicketdbError("no free block of ports found above 24000; pass --base-port")

    def _prepare(self) -> tuple[str, str]:
        server = _which("mariadbd")
        provider = galera_provider()
        if server is None or provider is None:
            raise TicketdbError(
                "Galera needs mariadbd and galera-4: `apt-get install -y mariadb-server galera-4 "
                "rsync` (or `make deps`)"
            )
        if _which("rsync") is None:
            raise TicketdbError("rsync SST needs rsync: `apt-get install -y rsync`")
        if not self.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            if not self.base_port:
                self.base_port = self._choose_base_port()
            self.state_file.write_text(
                json.dumps({"nodes": self.nodes, "base_port": self.base_port})
            )
        return server, provider

    def _as_mysql(self) -> bool:
        return os.geteuid() == 0

    def _own(self, path: Path) -> None:
        """As root, the node runs as ``mysql``: its folder (and the way to it) must be its."""
        if not self._as_mysql():
            return
        pw = pwd.getpwnam("mysql")
        for dirpath, _dirs, files in os.walk(path):
            os.chown(dirpath, pw.pw_uid, pw.pw_gid)
            for f in files:
                os.chown(os.path.join(dirpath, f), pw.pw_uid, pw.pw_gid)
        probe = subprocess.run(
            ["su", "-s", "/bin/sh", "mysql", "-c", f"test -w '{path}'"], capture_output=True
        )
        if probe.returncode != 0:
            raise TicketdbError(
                f"user mysql cannot write {path}: make its parent folders traversable "
                "(chmod o+x) or pick another --dir"
            )

    def _write_cnf(self, node: Node, provider: str) -> None:
        peers = ",".join(f"127.0.0.1:{n.port('group')}" for n in self.all_nodes())
        opts = ";".join(
            [
                "gcache.size=64M",
                f"gmcast.listen_addr=tcp://127.0.0.1:{node.port('group')}",
                f"ist.recv_addr=127.0.0.1:{node.port('ist')}",
                "evs.suspect_timeout=PT3S",
                "evs.inactive_timeout=PT6S",
                "pc.wait_prim_timeout=PT30S",
            ]
        )
        node.cnf.write_text(
            "\n".join(
                [
                    "[mysqld]",
                    *node.cnf_layout(),
                    f"port={node.port()}",
                    "bind-address=127.0.0.1",
                    "skip-name-resolve",
                    f"server_id={node.index}",
                    *SERVER_SETTINGS,
                    "innodb_buffer_pool_size=96M",
                    "innodb_log_file_size=48M",
                    "innodb_flush_log_at_trx_commit=2",
                    "performance_schema=OFF",
                    "max_connections=150",
                    "binlog_format=ROW",
                    "default_storage_engine=InnoDB",
                    "wsrep_on=ON",
                    f"wsrep_provider={provider}",
                    f'wsrep_provider_options="{opts}"',
                    "wsrep_cluster_name=ticketdb",
                    f"wsrep_cluster_address=gcomm://{peers}",
                    f"wsrep_node_name=node{node.index}",
                    f"wsrep_node_address=127.0.0.1:{node.port('group')}",
                    f"wsrep_node_incoming_address=127.0.0.1:{node.port()}",
                    f"wsrep_sst_receive_address=127.0.0.1:{node.port('sst')}",
                    "wsrep_sst_method=rsync",
                    "wsrep_slave_threads=2",
                    "",
                ]
            )
        )

    def _initialise(self, server: str, node: Node) -> None:
        node.datadir.mkdir(parents=True, exist_ok=True)
        install_db = _which("mariadb-install-db", "mysql_install_db")
        if install_db is None:
            raise TicketdbError("mariadb-install-db not found (apt-get install -y mariadb-server)")
        cmd = node.install_db_cmd(install_db)
        if self._as_mysql():
            self._own(node.root)
            cmd.append("--user=mysql")
        node.initialise(cmd, timeout=300)

    def recover_position(self, server: str, node: Node, timeout: float = 180) -> str | None:
        """``mariadbd --wsrep-recover`` under a timeout (killed, not waited on, when it hangs)."""
        log = node.root / "recover.log"
        log.unlink(missing_ok=True)
        cmd = [server, f"--defaults-file={node.cnf}", "--wsrep-recover", f"--log-error={log}"]
        if self._as_mysql():
            self._own(node.root)
            cmd.append("--user=mysql")
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        # It has done its job once the position is in its log, but in 8 of 34 restarts on a
        # loaded machine it then did not exit and grew ~60 MB/s (7-8 GB in two minutes: one way
        # to the "node of 20 GB" incident). So it gets a short grace after that line and is
        # killed, instead of being waited on for the whole timeout.
        deadline = time.monotonic() + timeout
        found: list[tuple[str, str]] = []
        seen_at: float | None = None
        while proc.poll() is None:
            now = time.monotonic()
            if seen_at is None and (found := _recovered(log)):
                seen_at = now
            if seen_at is not None and now - seen_at > _RECOVER_GRACE:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            if now > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise TicketdbError(
                    f"mariadbd --wsrep-recover on node {node.index} did not finish in "
                    f"{timeout:.0f}s"
                )
            time.sleep(0.1)
        found = _recovered(log) or found
        if not found:
            return None
        uuid, seqno = found[-1]
        return f"{uuid}:{seqno}" if int(seqno) >= 0 else None

    def _launch(self, server: str, node: Node, *, bootstrap: bool, timeout: float) -> None:
        cmd = [server, f"--defaults-file={node.cnf}"]
        if self._as_mysql():
            self._own(node.root)
            cmd.append("--user=mysql")
        if bootstrap:
            cmd.append("--wsrep-new-cluster")
        elif node.grastate().get("seqno", "-1") == "-1" and (node.datadir / "mysql").is_dir():
            position = self.recover_position(server, node)
            if position:
                cmd.append(f"--wsrep-start-position={position}")
        for kind in ("client", *PORT_OFFSETS):
            if _port_in_use(node.port(kind)):
                raise TicketdbError(f"node {node.index}: port {node.port(kind)} is already in use")
        node.spawn(
            cmd,
            node.is_synced,
            timeout,
            name=f"node {node.index}",
            late=f"node {node.index} did not sync",
            poll=0.2,
            kill=signal.SIGKILL,
        )

    def _rebootstrap(self, running: list[Node], timeout: float) -> None:
        """Survivors without quorum (e.g. 2 of 3 nodes lost) refuse everything with 1047 and
        cannot feed a joiner: make the most advanced one a Primary component of its own."""
        best = max(running, key=lambda n: int((n.wsrep() or {}).get("wsrep_last_committed", -1)))
        conn = best._connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'")
        finally:
            conn.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if best.is_synced():
                return
            time.sleep(0.2)
        raise TicketdbError(f"node {best.index} did not become Primary after pc.bootstrap")

    def _wait_evicted(self, timeout: float) -> None:
        """Until the live nodes have dropped a killed member from their view: a node started
        on the address of a member the group still suspects cannot join (connect timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            live = self.running()
            sizes = {(n.wsrep() or {}).get("wsrep_cluster_size") for n in live}
            if sizes <= {str(len(live))}:
                return
            time.sleep(0.3)

    def _pick_bootstrap(self, server: str) -> Node:
        """All nodes down: the one with safe_to_bootstrap, else the highest recovered seqno."""
        nodes = [n for n in self.all_nodes() if (n.datadir / "mysql").is_dir()]
        if not nodes:
            return self.node(1)
        for n in nodes:
            if n.grastate().get("safe_to_bootstrap") == "1":
                return n
        best, best_seqno = nodes[0], -2
        for n in nodes:
            seqno = int(n.grastate().get("seqno", "-1"))
            if seqno < 0:
                pos = self.recover_position(server, n)
                seqno = int(pos.rsplit(":", 1)[1]) if pos else -1
            if seqno > best_seqno:
                best, best_seqno = n, seqno
        grastate = best.datadir / "grastate.dat"
        if grastate.exists():
            grastate.write_text(
                re.sub(r"safe_to_bootstrap:\s*0", "safe_to_bootstrap: 1", grastate.read_text())
            )
        return best

    def start(self, index: int | None = None, timeout: float = 180) -> list[DSN]:
        """Idempotent: start what is down (all, or node ``index``) and wait until Synced."""
        server, provider = self._prepare()
        targets = self.all_nodes() if index is None else [self.node(index)]
        for n in self.all_nodes():
            n.tmpdir.mkdir(parents=True, exist_ok=True)
            self._write_cnf(n, provider)
        running = self.running()
        if running and not any((n.wsrep() or {}).get("wsrep_cluster_status") == "Primary"
                               for n in running):  # fmt: skip
            self._rebootstrap(running, timeout=60)
        if not running:
            first = self._pick_bootstrap(server)
            if index is not None and first.index != index:
                first = self.node(index)
            if not (first.datadir / "mysql").is_dir():
                self._initialise(server, first)
            self._launch(server, first, bootstrap=True, timeout=timeout)
        for n in targets:
            if n.pid() is None:
                n.datadir.mkdir(parents=True, exist_ok=True)
                self._wait_evicted(timeout=30)
                self._launch(server, n, bootstrap=False, timeout=timeout)
        for n in targets:
            self.enable_events(n)
        return [n.dsn() for n in targets]

    def enable_events(self, node: Node) -> dict[str, list[str]]:
        """Re-enable, on this node only, the events it loaded as SLAVESIDE_DISABLED.

        A node that starts (after a restart or an SST) disables every event whose originator
        is another server_id; the event bodies take a job lease, so enabling them on every node
        keeps one runner per period and gives failover (``migrate up`` does the same).
        """
        from ticketdb.server.galera import enable_events_on_node

        conn = node._connect()
        try:
            schemas = catalog.event_schemas(conn, "SLAVESIDE_DISABLED")
            return {db: enable_events_on_node(conn, db) for db in schemas}
        finally:
            conn.close()

    def _signal_wait(self, node: Node, sig: int, timeout: float) -> bool:
        pid = node.pid()
        if pid is None:
            return False
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive(pid):
                return True
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        while alive(pid) and time.monotonic() < deadline + 10:
            time.sleep(0.1)
        return True

    def stop(self, index: int | None = None, timeout: float = 60) -> list[int]:
        """Clean shutdown, highest node first (the last one down can bootstrap next time)."""
        nodes = [self.node(index)] if index is not None else list(reversed(self.all_nodes()))
        return [n.index for n in nodes if self._signal_wait(n, signal.SIGTERM, timeout)]

    def kill(self, index: int) -> bool:
        """SIGKILL one node, as a crash would (it rejoins by IST on ``start N``)."""
        return self._signal_wait(self.node(index), signal.SIGKILL, 10)

    def destroy(self) -> None:
        for n in self.all_nodes():
            if n.pid() is not None:
                self._signal_wait(n, signal.SIGKILL, 10)
        shutil.rmtree(self.root, ignore_errors=True)
