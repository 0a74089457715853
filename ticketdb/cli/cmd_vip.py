"""``ticketdb vip``: VIP tiers and the Redis cache of VIP customers' open tickets."""

from __future__ import annotations

import signal
import threading

import click

from ticketdb.app import cache
from ticketdb.cli.common import (
    Context,
    FiniteFloat,
    count,
    dsn_option,
    err_console,
    json_option,
    pass_ctx,
    print_json,
)

_redis_option = click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help=f"Redis URL (default: ${cache.ENV_REDIS_URL}, then {cache.DEFAULT_REDIS_URL}).",
)


@click.group()
def command() -> None:
    """VIP customers: tier refresh and their cached open tickets (docs/operations.md)."""


command.name = "vip"


@command.command("open")
@click.argument("customer_id", type=count(1, 2**63 - 1))
@_redis_option
@dsn_option
@json_option
@pass_ctx
def open_(ctx: Context, customer_id: int, redis_url: str | None, as_json: bool) -> None:
    """Print CUSTOMER_ID's open ticket ids and where they came from (cache|database).

    VIP customers are served from Redis while the cached set is still the committed one;
    everyone else, and everyone when Redis is down (with a warning), from the database.
    """
    res = cache.open_tickets(ctx.dsn(), customer_id, redis_url)
    if res.warning:
        err_console.print(f"[yellow]warning:[/] {res.warning}", highlight=False)
    if as_json:
        print_json(res.as_dict())
        return
    for tid in res.ticket_ids:
        click.echo(tid)
    err_console.print(
        f"customer {customer_id}: {len(res.ticket_ids)} open ticket(s), source: {res.source}"
        + ("" if res.vip else " (not VIP: not cached)"),
        highlight=False,
    )


@command.command()
@click.option(
    "--threshold",
    type=count(1, 1_000_000),
    default=10,
    show_default=True,
    help="Customers with at least this many tickets become VIP.",
)
@dsn_option
@json_option
@pass_ctx
def refresh(ctx: Context, threshold: int, as_json: bool) -> None:
    """Recompute VIP tiers from ticket counts (procedure vip_refresh)."""
    n = cache.refresh_vip(ctx.dsn(), threshold)
    if as_json:
        print_json({"threshold": threshold, "vip_customers": n})
    else:
        err_console.print(f"{n} VIP customer(s) with >= {threshold} tickets")


@command.command("invalidate-all")
@dsn_option
@pass_ctx
def invalidate_all(ctx: Context) -> None:
    """Expire every cached set (run after a bulk load that bypassed the triggers)."""
    cache.invalidate_all(ctx.dsn())
    err_console.print("cache epoch bumped: every cached VIP set is rebuilt on next read")


@command.command()
@click.option("--bound-ms", type=FiniteFloat(0, 60_000, min_open=True), default=250.0,
              show_default=True,
              help="Staleness bound: hits skip the database only while the follower's last "
                   "snapshot is younger than this.")  # fmt: skip
@click.option("--interval-ms", type=FiniteFloat(0, 60_000, min_open=True), default=None,
              help="Poll interval (default: min(50, bound/5)); must be below the bound.")
@click.option("--lease-ttl", type=count(1, 3600), default=5, show_default=True,
              help="Seconds before a standby on another Galera node takes over a dead follower.")
@_redis_option
@dsn_option
@pass_ctx
def follow(ctx: Context, bound_ms: float, interval_ms: float | None, lease_ttl: int,
           redis_url: str | None) -> None:  # fmt: skip
    """Push committed cache versions to Redis so VIP hits skip the database (runs until
    SIGTERM/SIGINT; one active follower per database, the others wait as standbys)."""
    from ticketdb.app import follower as fl  # redis + PyMySQL only for this command

    fl.check_bound(bound_ms, interval_ms)  # UsageError (exit 2) before connecting
    worker = fl.Follower(
        ctx.dsn(),
        redis_url or cache.redis_url_from_env(),
        bound_ms=bound_ms,
        interval_ms=interval_ms,
        lease_ttl=lease_ttl,
        say=lambda m: err_console.print(m, highlight=False, markup=False),
    )
    stop = threading.Event()
    stops = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in stops}
    try:
        worker.run(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    st = worker.stats
    err_console.print(f"follower stopped: {st.polls} polls, {st.publishes} with changes, "
                      f"{st.flushes} flush(es), max lag {st.max_lag_ms:.1f} ms",
                      highlight=False)  # fmt: skip
