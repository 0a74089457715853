"""The scenario registry: a scenario is a small object, registered once by name.

A new scenario (e.g. the Redis path ``vip_open_tickets_cached``) is added from anywhere with::

    from ticketdb.bench.registry import Scenario, register

    register(Scenario("vip_open_tickets_cached", "VIP open tickets via Redis",
                      run=lambda ctx: cache.open_tickets(ctx.vip_customer_id),
                      baseline=lambda ctx: ctx.query("vip_open_tickets").run(
                          ctx.conn, customer_id=ctx.vip_customer_id),
                      baseline_label="database path"))

or by dropping a module into ``ticketdb/bench/scenarios/`` (imported by :func:`scenarios`).
Registering a name twice is an error, so a copy never silently replaces the original.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ticketdb.bench.context import BenchContext

Action = Callable[["BenchContext"], Any]


@dataclass(frozen=True)
class Scenario:
    """What to time (``run``), optionally against what (``baseline``), and how to explain it.

    ``reset`` runs before every timed call of ``run`` and of ``baseline`` (not timed): for
    scenarios that change data, so each call starts from the same rows. ``explain`` returns the
    plan(s) recorded in the JSON. ``max_repeat`` caps repeats for slow scenarios.
    ``extra`` (after the timed calls, before ``cleanup``) returns more measurements merged into
    the scenario's JSON entry (e.g. escalation's ``io``).

    A load test that is not a repeated call (``workflow_throughput``) gives ``measure`` instead
    of ``run``: called once between ``prepare`` and ``cleanup``, it returns the entry's fields
    itself (``p50_ms``, ``p95_ms``, ``runs`` and whatever else it measured).

    ``on_request``: run only when named (``--scenario``), never in a run of everything: for a
    scenario that rewrites the bench tables and takes minutes (``online_alter``).
    """

    name: str
    description: str
    run: Action | None = None
    baseline: Action | None = None
    baseline_label: str | None = None
    explain: Callable[[BenchContext], dict[str, Any]] | None = None
    reset: Action | None = None
    prepare: Action | None = None  # once, before the scenario's first call
    cleanup: Action | None = None  # once, after its last call
    max_repeat: int | None = None
    warmup: int = 1
    extra: Callable[[BenchContext], dict[str, Any]] | None = None
    measure: Callable[[BenchContext], dict[str, Any]] | None = None
    on_request: bool = False

    def __post_init__(self) -> None:
        if (self.run is None) == (self.measure is None):
            raise ValueError(f"bench scenario {self.name!r}: give exactly one of run / measure")


_REGISTRY: dict[str, Scenario] = {}
_FIRST = ("queries", "escalation")  # built-in modules first, in report order; then the rest


def register(scenario: Scenario) -> Scenario:
    if scenario.name in _REGISTRY:
        raise ValueError(f"bench scenario {scenario.name!r} is already registered")
    _REGISTRY[scenario.name] = scenario
    return scenario


def scenarios() -> dict[str, Scenario]:
    """Every registered scenario, built-ins first (importing them registers them)."""
    import ticketdb.bench.scenarios as pkg

    names = sorted(info.name for info in pkgutil.iter_modules(pkg.__path__))
    for name in [*_FIRST, *(n for n in names if n not in _FIRST)]:
        importlib.import_module(f"{pkg.__name__}.{name}")
    return dict(_REGISTRY)
