"""One member of the local Galera cluster: its folder, ports, process and wsrep state.

The cluster (ticketdb.server.cluster) decides where members live and starts or stops them; a
node only knows its own files and answers questions about itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pymysql

from ticketdb.dsn import DSN
from ticketdb.server.sandbox import ServerFiles

#: node N's group, IST and SST ports: its client port plus these
PORT_OFFSETS = {"group": 100, "ist": 200, "sst": 300}


class Layout(Protocol):
    """What a node needs to know of its cluster: the folder and the first client port."""

    root: Path
    base_port: int


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own zombie child
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Node(ServerFiles):
    """One member: its folder, ports, process and wsrep state."""

    cluster: Layout
    index: int  # 1-based

    @property
    def root(self) -> Path:
        return self.cluster.root / f"node{self.index}"

    def port(self, kind: str = "client") -> int:
        base = self.cluster.base_port + self.index - 1
        return base if kind == "client" else base + PORT_OFFSETS[kind]

    def dsn(self, database: str = "ticketdb") -> DSN:
        return DSN(host="127.0.0.1", port=self.port(), user="root", password="", database=database)

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def _connect(self, timeout: float = 2) -> pymysql.connections.Connection:
        return pymysql.connect(
            unix_socket=str(self.socket),
            user="root",
            password="",
            connect_timeout=timeout,
            read_timeout=10,
            autocommit=True,
            # a local socket needs no TLS, and PyMySQL 1.2 would build a TLS context (~30 ms of
            # CPU) for each of these connections: status polls every 0.2 s while a node syncs
            ssl_disabled=True,
        )

    def wsrep(self) -> dict[str, str] | None:
        """``SHOW STATUS LIKE 'wsrep%'`` (None when the node does not answer)."""
        if self.pid() is None:
            return None
        try:
            conn = self._connect()
        except pymysql.err.MySQLError:
            return None
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
                return {k: v for k, v in cur.fetchall()}
        except pymysql.err.MySQLError:
            return None
        finally:
            conn.close()

    def is_synced(self) -> bool:
        st = self.wsrep() or {}
        return (
            st.get("wsrep_ready") == "ON"
            and st.get("wsrep_cluster_status") == "Primary"
            and st.get("wsrep_local_state_comment") == "Synced"
        )

    def status(self) -> dict[str, Any]:
        pid = self.pid()
        st = self.wsrep() or {}
        return {
            "node": self.index,
            "port": self.port(),
            "pid": pid,
            "running": pid is not None,
            "rss_mb": _rss_mb(pid) if pid else None,
            "cluster_size": int(st["wsrep_cluster_size"]) if st.get("wsrep_cluster_size") else None,
            "primary": st.get("wsrep_cluster_status") == "Primary",
            "synced": st.get("wsrep_local_state_comment") == "Synced",
            "ready": st.get("wsrep_ready") == "ON",
            "state": st.get("wsrep_local_state_comment"),
            "dsn": self.dsn().url() if pid else None,
        }

    def grastate(self) -> dict[str, str]:
        try:
            text = (self.datadir / "grastate.dat").read_text()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            if ":" in line and not line.startswith("#"):
                key, _, value = line.partition(":")
                out[key.strip()] = value.strip()
        return out
