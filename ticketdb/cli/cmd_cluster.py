"""``ticketdb cluster``: a local MariaDB Galera cluster on loopback for trying multi-node setups."""

from __future__ import annotations

from pathlib import Path

import click

from ticketdb.cli.common import err_console, folder_option, json_option, print_json, yes_option
from ticketdb.server.cluster import DEFAULT_CLUSTER_DIR, ENV_CLUSTER_DIR, Cluster, cluster_dir

_dir_option = folder_option("Cluster", DEFAULT_CLUSTER_DIR, ENV_CLUSTER_DIR)
_nodes_option = click.option(
    "--nodes",
    type=click.IntRange(1, 9),
    default=None,
    help="Number of nodes, fixed at the first start (default 3).",
)
_base_port_option = click.option(
    "--base-port",
    type=click.IntRange(1024, 65000),
    default=None,
    help="Node N listens on BASE+N-1 (group/IST/SST ports BASE+100/200/300+N-1); "
    "default: a free block, remembered across restarts.",
)


def _cluster(
    directory: Path | None, nodes: int | None = None, base_port: int | None = None
) -> Cluster:
    return Cluster(directory or cluster_dir(), nodes=nodes, base_port=base_port or 0)


@click.group()
def command() -> None:
    """Run a local MariaDB Galera cluster (galera-4 from the system packages).

    Every node runs on 127.0.0.1 with its own folder, server_id and port; data survives
    stop/start. Use the printed DSNs one by one, or all at once as
    mysql://root@127.0.0.1:P1,127.0.0.1:P2,…/ticketdb.
    """


command.name = "cluster"


@command.command()
@click.argument("node", type=click.IntRange(1, 9), required=False)
@_dir_option
@_nodes_option
@_base_port_option
def start(
    node: int | None, directory: Path | None, nodes: int | None, base_port: int | None
) -> None:
    """Start every node (or node NODE) and wait until Synced; print one DSN per node.

    Idempotent. A node that was killed rejoins by IST from its recovered position; with every
    node down, the most advanced one bootstraps the cluster; when the running nodes have lost
    quorum (non-Primary, e.g. 2 of 3 killed), the most advanced of them is bootstrapped
    (pc.bootstrap=YES) and the others rejoin it.
    """
    cluster = _cluster(directory, nodes, base_port)
    before = {n.index for n in cluster.running()}
    dsns = cluster.start(node)
    started = [d.port for d in dsns if d.port - cluster.base_port + 1 not in before]
    err_console.print(
        f"cluster in {cluster.root}: "
        + (f"started port(s) {', '.join(map(str, started))}" if started else "already running")
    )
    for dsn in dsns:
        click.echo(dsn.url())


@command.command()
@click.argument("node", type=click.IntRange(1, 9), required=False)
@_dir_option
def stop(node: int | None, directory: Path | None) -> None:
    """Shut every node (or node NODE) down cleanly; data is kept."""
    cluster = _cluster(directory)
    stopped = cluster.stop(node)
    err_console.print(
        f"stopped node(s) {', '.join(map(str, stopped))}" if stopped else "nothing was running"
    )


@command.command()
@click.argument("node", type=click.IntRange(1, 9))
@_dir_option
def kill(node: int, directory: Path | None) -> None:
    """SIGKILL node NODE, like a crash (`cluster start NODE` brings it back by IST)."""
    cluster = _cluster(directory)
    if not cluster.exists():
        raise click.ClickException(f"no cluster in {cluster.root}")
    killed = cluster.kill(node)
    err_console.print(f"node {node} killed" if killed else f"node {node} was not running")


@command.command()
@_dir_option
@json_option
def status(directory: Path | None, as_json: bool) -> None:
    """Each node's pid, port, RSS, cluster size and Primary/Synced/ready.

    Exit 1 unless every node is running, Primary, Synced and ready.
    """
    cluster = _cluster(directory)
    rows = cluster.status() if cluster.exists() else []
    healthy = bool(rows) and all(r["ready"] and r["primary"] and r["synced"] for r in rows)
    if as_json:
        print_json({"dir": str(cluster.root), "healthy": healthy, "nodes": rows})
    elif not rows:
        click.echo(f"no cluster in {cluster.root}")
    else:
        for r in rows:
            if not r["running"]:
                click.echo(f"node {r['node']}  port {r['port']}  down")
                continue
            click.echo(
                f"node {r['node']}  port {r['port']}  pid {r['pid']}  rss {r['rss_mb']} MB  "
                f"size {r['cluster_size']}  {'Primary' if r['primary'] else 'non-Primary'}  "
                f"{r['state']}  ready {'ON' if r['ready'] else 'OFF'}"
            )
    if not healthy:
        raise SystemExit(1)


@command.command()
@_dir_option
def dsn(directory: Path | None) -> None:
    """Print one multi-host DSN naming every node (for TICKETDB_DSN)."""
    cluster = _cluster(directory)
    if not cluster.exists():
        raise click.ClickException(f"no cluster in {cluster.root}: run `ticketdb cluster start`")
    click.echo(cluster.multi_dsn())


@command.command()
@_dir_option
@yes_option
def destroy(directory: Path | None, yes: bool) -> None:
    """Kill every node and delete the cluster folder with all its data."""
    cluster = _cluster(directory)
    if not yes:
        click.confirm(f"delete {cluster.root} and all its data?", abort=True)
    cluster.destroy()
    err_console.print(f"removed {cluster.root}")
