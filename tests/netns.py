"""A network path whose packets really vanish, for the keepalive tests.

:class:`SilentLink` puts a relay to the test server behind a veth pair that runs from this
network namespace into one of its own. :meth:`SilentLink.cut` takes the far end of the pair
down: the near end loses its carrier and the kernel drops every packet sent to it at the
device, with no RST, no ICMP and no error for the sender (the near end's routes stay, and both
neighbour entries are permanent, so no ARP failure turns into a local "host unreachable").
That is the firewall or NAT that forgets a connection, as the kernel of the client sees it;
``FreezingProxy`` (faultkit) cannot show it, because the kernel still ACKs the proxy's socket.

Addresses come from 169.254.64.0/18 (RFC 3927 link-local): routers never forward link-local
packets, the /30 route is more specific than any other route the host may have, the veth pair
exists only between this host and its own namespace, and the range is clear of 169.254.169.254
(cloud metadata) and of the reserved first and last /24. Nothing can leave the machine.

Needs root, ``ip`` (iproute2) and ``setns``; :func:`unavailable` says why not, for a skip.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import re
import select
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from faultkit import FreezingProxy

from ticketdb.dsn import DSN

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
#: every ``ip`` command and every wait here ends within this
STEP_TIMEOUT = 10.0
_serial = itertools.count(1)


def _ip(*args: str) -> str:
    res = subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False
    )
    if res.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {res.stderr.strip()}")
    return res.stdout


def unavailable() -> str | None:
    """Why a silent link cannot be built here (None: it can)."""
    if os.geteuid() != 0:
        return "needs root (ip netns, veth)"
    try:
        sweep_stale()
        ns = f"tk{os.getpid()}-check"
        _ip("netns", "add", ns)
        _ip("netns", "del", ns)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return f"`ip netns` is unavailable: {exc}"
    if not hasattr(ctypes.CDLL(None), "setns"):
        return "libc has no setns()"
    return None


def sweep_stale() -> None:
    """Remove the namespaces (and so their veth pairs) of test processes that died without
    their clean-up (``kill -9``): each name carries the pid of the process that made it."""
    for line in _ip("netns", "list").splitlines():
        m = re.match(r"tk(\d+)-\S+", line)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            _ip("netns", "del", m.group(0))


def _free_net(n: int) -> tuple[str, str]:
    """Two addresses of a /30 in 169.254.64.0/18 that no interface here uses (several test
    processes may hold links at once), starting from one chosen by pid."""
    used = {
        a["local"].rsplit(".", 1)[0] + f".{int(a['local'].rsplit('.', 1)[1]) // 4}"
        for link in json.loads(_ip("-j", "addr", "show"))
        for a in link.get("addr_info", [])
        if a.get("family") == "inet" and a.get("local", "").startswith("169.254.")
    }
    for i in range(4096):
        block = (os.getpid() * 4 + n + i) % 4096
        net = f"169.254.{64 + block // 64}"
        if f"{net}.{block % 64}" not in used:
            return f"{net}.{block % 64 * 4 + 1}", f"{net}.{block % 64 * 4 + 2}"
    raise RuntimeError("no free /30 left in 169.254.64.0/18")


def in_netns(name: str, fn: Callable[[], T]) -> T:
    """``fn()`` run by a thread that entered network namespace ``name`` (setns changes only the
    calling thread's namespace, and this thread ends right after): a socket made there stays
    in that namespace, while the threads that use it later live in ours."""
    out: list[T] = []
    err: list[BaseException] = []

    def run() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {name}")
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            err.append(exc)
        finally:
            os.close(fd)

    t = threading.Thread(target=run, name=f"netns-{name}")
    t.start()
    t.join(STEP_TIMEOUT)
    assert not t.is_alive(), f"the thread in {name} did not end"
    if err:
        raise err[0]
    return out[0]


def tcp_unacked(sock: socket.socket) -> int:
    """Segments sent and not acknowledged (``tcpi_unacked`` of TCP_INFO)."""
    return struct.unpack_from("I", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104), 24)[0]


def error_at(sock: socket.socket, timeout: float) -> float | None:
    """The monotonic time the kernel reports an error on ``sock`` (poll, no read: the
    connection stays idle), or None when none comes within ``timeout`` s."""
    p = select.poll()
    p.register(sock, select.POLLERR | select.POLLHUP)
    return time.monotonic() if p.poll(timeout * 1000) else None


class SilentLink:
    """A TCP relay to ``target`` listening in a namespace of its own, at :attr:`address`,
    reached over a veth pair that :meth:`cut` takes down without a trace. ``close()`` removes
    the namespace, the pair and the relay (use it in a ``finally``)."""

    def __init__(self, target: tuple[str, int]) -> None:
        n = next(_serial)
        self.target = target
        # names of at most 15 characters (IFNAMSIZ), unique per test process and link
        self.ns = f"tk{os.getpid()}-{n}"
        self.near, self.far = f"{self.ns}h", f"{self.ns}n"
        self.near_ip, self.address = _free_net(n)
        self.cut_at: float | None = None
        self.relay: FreezingProxy | None = None
        _ip("netns", "add", self.ns)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self) -> None:
        _ip("link", "add", self.near, "type", "veth", "peer", "name", self.far, "netns", self.ns)
        _ip("addr", "add", f"{self.near_ip}/30", "dev", self.near)
        _ip("-n", self.ns, "addr", "add", f"{self.address}/30", "dev", self.far)
        for args in ((), ("-n", self.ns)):  # no IPv6 neighbour or MLD chatter on the pair
            dev = self.near if not args else self.far
            _ip(*args, "link", "set", dev, "addrgenmode", "none")
        _ip("link", "set", self.near, "up")
        _ip("-n", self.ns, "link", "set", self.far, "up")
        near_mac = Path(f"/sys/class/net/{self.near}/address").read_text().strip()
        far_mac = json.loads(_ip("-j", "-n", self.ns, "link", "show", self.far))[0]["address"]
        # permanent entries: no ARP that could fail after the cut and report "unreachable"
        _ip("neigh", "replace", self.address, "lladdr", far_mac, "dev", self.near,
            "nud", "permanent")  # fmt: skip
        _ip("-n", self.ns, "neigh", "replace", self.near_ip, "lladdr", near_mac, "dev", self.far,
            "nud", "permanent")  # fmt: skip
        # the relay's threads live here; only its listening socket was made over there
        listener = in_netns(self.ns, lambda: socket.create_server((self.address, 0)))
        self.relay = FreezingProxy(self.target, listener)  # never frozen: the cut is below it
        self.port = self.relay.port

    def dsn(self, dsn: DSN) -> DSN:
        """``dsn`` reached through this link."""
        return dsn.with_host(self.address, self.port)

    def first_node(self, dsn: DSN) -> DSN:
        """A multi-host DSN: this link first, ``dsn``'s server direct second."""
        assert self.relay is not None
        return self.relay.first_node(dsn)

    # -- the cut --------------------------------------------------------------------------------
    def _rx_packets(self) -> int:
        return int(Path(f"/sys/class/net/{self.near}/statistics/rx_packets").read_text())

    def cut(self) -> float:
        """Take the far end down and prove the drop silent on a connection of its own: a send
        succeeds, stays unacknowledged, sets no error, and no packet comes back. Returns the
        monotonic time of the cut."""
        probe = socket.create_connection((self.address, self.port), timeout=STEP_TIMEOUT)
        try:
            assert probe.recv(1), "no greeting through the link before the cut"
            _ip("-n", self.ns, "link", "set", self.far, "down")
            self.cut_at = time.monotonic()
            state = Path(f"/sys/class/net/{self.near}/operstate")
            deadline = time.monotonic() + STEP_TIMEOUT
            while state.read_text().strip() == "up":
                assert time.monotonic() < deadline, f"{self.near} kept its carrier"
                time.sleep(0.01)
            # counted once the carrier is gone: a delayed ACK or the rest of the greeting may
            # still cross between the last read and the cut (CI saw one), and is not a leak
            rx = self._rx_packets()
            assert probe.send(b"\0") == 1  # no send error
            time.sleep(1.0)  # several retransmissions (the RTO starts at 200 ms)
            assert probe.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0, "an error came"
            assert tcp_unacked(probe) >= 1, "the probe byte was acknowledged"
            assert self._rx_packets() == rx, "packets came back over the cut link"
        finally:
            probe.close()
        return self.cut_at

    def close(self) -> None:
        """Close the relay (its sockets hold the namespace), then remove the pair and the
        namespace, and wait until both are gone."""
        if self.relay is not None:
            self.relay.close()
        try:
            _ip("link", "del", self.near)
        except RuntimeError:
            pass  # never made, or gone with the namespace
        try:
            _ip("netns", "del", self.ns)
        except RuntimeError:
            pass  # the check below says whether it is gone
        deadline = time.monotonic() + STEP_TIMEOUT
        while (
            Path(f"/sys/class/net/{self.near}").exists() or Path(f"/run/netns/{self.ns}").exists()
        ):
            assert time.monotonic() < deadline, f"{self.ns} or {self.near} still exists"
            time.sleep(0.05)
