"""``ticketdb alerts``: deliver deadline alerts from alert_outbox (run), queue them now, count."""

from __future__ import annotations

import signal
import threading

import click

from ticketdb.app import alerts as al
from ticketdb.cli.common import (
    Context,
    dsn_option,
    err_console,
    json_option,
    non_empty,
    pass_ctx,
    print_json,
    seconds,
)
from ticketdb.errors import UsageError

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@click.group()
def command() -> None:
    """Timeout alerts pushed to supervisors (docs/operations.md).

    The event alert_enqueue_event queues one alert per open ticket about to breach its deadline;
    `alerts run` delivers them at least once, with an Idempotency-Key the receiver can dedupe on.
    """


command.name = "alerts"


@command.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--webhook",
    metavar="URL",
    callback=non_empty,
    help="POST each alert as JSON here (default: stdout).",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 10000),
    default=50,
    show_default=True,
    help="Alerts claimed per transaction.",
)
@click.option(
    "--lease",
    "lease_seconds",
    type=seconds(high=86_400),
    default=60.0,
    show_default=True,
    help="Seconds a claimed batch stays ours; a killed worker's alerts are "
    "re-delivered after this.",
)
@click.option(
    "--timeout",
    type=seconds(high=3_600),
    default=10.0,
    show_default=True,
    help="Webhook request timeout in seconds.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 1000),
    default=8,
    show_default=True,
    help="Failed deliveries before an alert is marked 'failed'.",
)
@click.option(
    "--backoff",
    "backoff_base",
    type=seconds(high=86_400),
    default=5.0,
    show_default=True,
    help="First retry delay in seconds; doubles per attempt (max 15 min).",
)
@click.option(
    "--poll",
    type=seconds(high=3_600),
    default=5.0,
    show_default=True,
    help="Seconds between polls when nothing is due.",
)
@dsn_option
@pass_ctx
def run(
    ctx: Context,
    once: bool,
    webhook: str | None,
    batch: int,
    lease_seconds: float,
    timeout: float,
    max_attempts: int,
    backoff_base: float,
    poll: float,
) -> None:
    """Claim due alerts (FOR UPDATE SKIP LOCKED), deliver, mark sent, retry failures.

    Safe to run several workers at once and to kill one at any time: an alert is sent by one
    worker at a time, and a killed worker's alerts are re-sent (same Idempotency-Key) once its
    lease expires. SIGTERM/SIGINT finish the current alert and release the rest.
    """
    sink: al.WebhookSink | al.StdoutSink
    if webhook:
        if not webhook.startswith(("http://", "https://")):
            raise UsageError(f"--webhook must be an http(s) URL, got {webhook!r}")
        sink = al.WebhookSink(webhook, timeout=timeout)
    else:
        sink = al.StdoutSink()
    try:
        worker = al.Worker(
            ctx.dsn(),
            sink,
            batch=batch,
            lease_seconds=lease_seconds,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            on_event=lambda m: err_console.print(m, highlight=False),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        stats = worker.run(once=once, poll=poll, stop=stop)
    finally:
        sink.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    err_console.print(
        f"alerts: {stats.sent} sent, {stats.retried} to retry, {stats.failed} failed, "
        f"{stats.released} released",
        highlight=False,
    )


@command.command()
@click.option(
    "--window",
    "window_minutes",
    type=click.IntRange(1, 10080),
    default=60,
    show_default=True,
    help="Queue tickets whose deadline is within this many minutes.",
)
@dsn_option
@pass_ctx
def enqueue(ctx: Context, window_minutes: int) -> None:
    """Queue alerts now (what the event does every minute); prints pending count."""
    pending = al.enqueue(ctx.dsn(), window_minutes)
    err_console.print(f"{pending} alert(s) pending")


@command.command()
@dsn_option
@json_option
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Alerts per status, and how many are leased by a worker right now."""
    counts = al.status_counts(ctx.dsn())
    if as_json:
        print_json(counts)
    else:
        for k, v in counts.items():
            click.echo(f"{k:8} {v}")
