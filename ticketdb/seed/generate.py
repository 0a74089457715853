"""Deterministic ticket + log generator, producing LOAD DATA text (tab-separated, ``\\N`` = NULL).

Why hand-rolled ``random.Random`` and not Faker: the rows need a handful of enums, ids and
timestamps, not names or addresses, and the generator runs at millions of rows per load; Faker
costs ~6 µs per value, a ``random.Random`` call ~45 ns (measured, docs/seed.md).

Every ticket is simulated as a lifecycle (assign → replies → [transfer] → resolve → [reopen …]
→ close), then cut at the anchor time ``now``: whatever has not happened yet is dropped. The
ticket's row (status, assigned agent, closed_at, updated_at, priority and SLA clock) is derived
from the logs that remain, with the same rules the workflow triggers apply, so the data is
consistent by construction. Ticket ids follow ``created_at`` (as AUTO_INCREMENT would).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

TICKET_COLUMNS = (
    "id",
    "customer_id",
    "title",
    "priority",
    "current_status",
    "assigned_agent_id",
    "created_at",
    "updated_at",
    "closed_at",
    "sla_started_at",
)
LOG_COLUMNS = (
    "id",
    "ticket_id",
    "agent_id",
    "action_type",
    "action_time",
    "note",
    "to_agent_id",
    "new_priority",
)

PRIORITIES = ("urgent", "high", "medium", "low")
#: share of new tickets per priority (urgent, high, medium, low)
PRIORITY_MIX = (0.05, 0.20, 0.45, 0.30)
OPEN = ("pending", "processing")
#: hours from sla_started_at to deadline; mirrors the generated column in 0001_service_tickets
SLA_HOURS = {"urgent": 2, "high": 24, "medium": 72, "low": 72}
#: mean minutes until an agent picks the ticket up, per priority
ASSIGN_MINUTES = {"urgent": 10, "high": 45, "medium": 180, "low": 360}
#: what an escalation raises a priority to
ESCALATES_TO = {"low": "medium", "medium": "high", "high": "urgent"}

CATEGORIES = {
    "Billing": ("Refund not received", "Double charge", "Invoice missing", "Wrong VAT rate"),
    "Account": ("Cannot log in", "Password reset fails", "Change e-mail", "Delete my account"),
    "Shipping": ("Parcel late", "Wrong address", "Damaged parcel", "Tracking not updating"),
    "Product": ("Item defective", "Missing part", "Size exchange", "Warranty claim"),
    "Technical": ("App crashes", "Sync error", "Slow website", "Payment page error"),
}
TITLES = tuple(f"{cat}: {subject}" for cat, subjects in CATEGORIES.items() for subject in subjects)

MONTH_SECONDS = 30 * 86400
NULL = "\\N"  # LOAD DATA's NULL


@dataclass(frozen=True)
class SeedSpec:
    """Everything the data depends on; the same spec always yields the same bytes."""

    tickets: int
    logs_per_ticket: float = 4.0
    months: int = 12
    seed: int = 1
    customers: int | None = None
    agents: int = 200
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1))

    @property
    def n_customers(self) -> int:
        return self.customers or max(10, self.tickets // 5)

    @property
    def n_vip(self) -> int:
        """VIP customers are ids 1..n_vip (1 %); they raise ~10 % of all tickets."""
        return max(1, self.n_customers // 100)

    @property
    def start(self) -> datetime:
        return self.now - timedelta(seconds=self.months * MONTH_SECONDS)

    def as_dict(self) -> dict:
        return {
            "tickets": self.tickets,
            "logs_per_ticket": self.logs_per_ticket,
            "months": self.months,
            "seed": self.seed,
            "customers": self.n_customers,
            "vip_customers": self.n_vip,
            "agents": self.agents,
            "now": self.now.strftime("%Y-%m-%d %H:%M:%S"),
        }


@dataclass
class GenStats:
    tickets: int = 0
    logs: int = 0
    tickets_sha256: str = ""
    logs_sha256: str = ""
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def checksum(self) -> str:
        """One digest over both streams: what `ticketdb seed` prints and tests compare."""
        return hashlib.sha256((self.tickets_sha256 + self.logs_sha256).encode()).hexdigest()[:32]


class _Clock:
    """Epoch seconds → 'YYYY-MM-DD HH:MM:SS' by two table look-ups (strftime is 20× slower)."""

    def __init__(self, first: datetime, last: datetime) -> None:
        self.epoch = datetime(1970, 1, 1)
        self.day0 = int((first - self.epoch).total_seconds()) // 86400
        ndays = int((last - self.epoch).total_seconds()) // 86400 - self.day0 + 2
        self.days = [
            (self.epoch + timedelta(days=self.day0 + i)).strftime("%Y-%m-%d ") for i in range(ndays)
        ]
        self.hms = [
            f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def secs(self, dt: datetime) -> int:
        return int((dt - self.epoch).total_seconds())

    def fmt(self, t: int) -> str:
        return self.days[t // 86400 - self.day0] + self.hms[t % 86400]


def _weighted_table(rng: Random, n: int, exponent: float, size: int = 4096) -> list[int]:
    """Ids 1..n laid out so a uniform pick follows a Zipf-like skew (a few agents do most work)."""
    weights = [1.0 / (rank**exponent) for rank in range(1, n + 1)]
    ids = list(range(1, n + 1))
    rng.shuffle(ids)  # the busiest agent is not always id 1
    return rng.choices(ids, weights=weights, k=size)


def generate(
    spec: SeedSpec,
    write_tickets: Callable[[bytes], object],
    write_logs: Callable[[bytes], object],
    *,
    block: int = 5000,
    progress: Callable[[int, int], object] | None = None,
) -> GenStats:
    """Generate every row, handing LOAD DATA text to the two writers block by block."""
    stats = GenStats()
    th, lh = hashlib.sha256(), hashlib.sha256()
    for tickets_chunk, logs_chunk, nt, nl in _blocks(spec, block, stats.by_status):
        tb, lb = tickets_chunk.encode(), logs_chunk.encode()
        th.update(tb)
        lh.update(lb)
        write_tickets(tb)
        write_logs(lb)
        stats.tickets += nt
        stats.logs += nl
        if progress:
            progress(stats.tickets, stats.logs)
    stats.tickets_sha256, stats.logs_sha256 = th.hexdigest(), lh.hexdigest()
    return stats


def _blocks(
    spec: SeedSpec, block: int, by_status: dict[str, int]
) -> Iterator[tuple[str, str, int, int]]:
    rng = Random(spec.seed)
    r = rng.random
    clock = _Clock(spec.start, spec.now)
    # clock.fmt inlined in the hot loop below (a call per timestamp costs ~20 % of the run)
    days, hms, day0 = clock.days, clock.hms, clock.day0
    t_start, t_now = clock.secs(spec.start), clock.secs(spec.now)
    span = t_now - t_start
    backlog_from = t_now - 4 * 86400
    agent_table = _weighted_table(rng, spec.agents, 0.9)
    n_agent_table = len(agent_table)
    n_cust, n_vip = spec.n_customers, spec.n_vip
    cum_prio: list[tuple[str, float]] = []
    acc = 0.0
    for name, share in zip(PRIORITIES, PRIORITY_MIX, strict=True):
        acc += share
        cum_prio.append((name, acc))
    titles = TITLES
    n_titles = len(titles)
    # Replies per ticket: a closed ticket has assign + resolve + close besides its replies
    # (plus a few transfers/reopens), so this reply mean brings the average to logs_per_ticket.
    reply_span = 2 * max(0.0, spec.logs_per_ticket - 3.25) + 1
    counts = {"pending": 0, "processing": 0, "resolved": 0, "closed": 0, "due_within_1h": 0}

    log_id = 0
    tid = 0
    n = spec.tickets
    while tid < n:
        tlines: list[str] = []
        llines: list[str] = []
        nl = 0
        stop = min(n, tid + block)
        while tid < stop:
            tid += 1
            created = t_start + int((tid - 1 + r()) * span / n)
            x = r()
            prio = "low"
            for p, c in cum_prio:
                if x < c:
                    prio = p
                    break
            cust = 1 + int(r() * n_vip) if r() < 0.10 else n_vip + 1 + int(r() * (n_cust - n_vip))
            title = titles[int(r() * n_titles)]
            sla = created
            assignee = None
            status = "pending"
            closed = None
            updated = created
            # (time, agent_id, action, to_agent_id, new_priority), in time order
            events: list[tuple[int, int | None, str, int | None, str | None]] = []
            fate = r()
            t = created
            # 2 % wait a day unassigned and are escalated (escalation_rules: 24 h), which
            # restarts the SLA clock
            if prio in ESCALATES_TO and fate < 0.02:
                t += 24 * 3600 + int(r() * 3600)
                events.append((t, None, "escalate", None, ESCALATES_TO[prio]))
            if fate < 0.97 or fate >= 0.985:  # 1.5 % are never picked up
                # a quarter of the tickets drag on (waiting for the customer, hard problems),
                # and this week the team is behind (70 %): the backlog keeps deadlines near
                # `now`, so the timeout warning has work
                pace = 8 if r() < (0.7 if created > backlog_from else 0.25) else 1
                t += int(r() * 2 * 60 * ASSIGN_MINUTES[prio] * pace) + 30
                agent = agent_table[int(r() * n_agent_table)]
                events.append((t, agent, "assign", None, None))
                gap = 3600 * (1 if prio == "urgent" else 6) * pace
                nrep = int(r() * reply_span)
                # 12 % are transferred, a few of them several times (frequent_transfers)
                x = r()
                ntransfers = 0 if x >= 0.12 else 1 if x >= 0.03 else 2 if x >= 0.01 else 4
                transfer_at = {int(r() * (nrep + 1)) for _ in range(ntransfers)}
                for k in range(nrep + 1):
                    if k in transfer_at:
                        t += int(r() * gap) + 60
                        to_agent = agent_table[int(r() * n_agent_table)]
                        events.append((t, agent, "transfer", to_agent, None))
                        agent = to_agent
                    if k < nrep:
                        t += int(r() * 2 * gap) + 60
                        events.append((t, agent, "reply", None, None))
                if fate < 0.97:  # 1.5 % stall in processing
                    t += int(r() * 2 * gap) + 60
                    events.append((t, agent, "resolve", None, None))
                    if r() < 0.04:  # the customer reopens, the agent answers again
                        t += int(r() * 86400) + 600
                        events.append((t, None, "reopen", None, None))
                        t += int(r() * gap) + 60
                        events.append((t, agent, "reply", None, None))
                        t += int(r() * gap) + 60
                        events.append((t, agent, "resolve", None, None))
                    t += int(r() * 48 * 3600 * pace) + 3600
                    events.append((t, agent, "close", None, None))
            # Cut at `now`, then replay what remains with the rules of the workflow triggers
            # (triggers/ticket_logs_after_insert.sql); 'reply' changes nothing.
            for t, who, action, to_agent, new_prio in events:
                if t > t_now:
                    break
                log_id += 1
                nl += 1
                ts = days[t // 86400 - day0] + hms[t % 86400]
                llines.append(
                    f"{log_id}\t{tid}\t{who or NULL}\t{action}\t{ts}\t{NULL}\t"
                    f"{to_agent or NULL}\t{new_prio or NULL}\n"
                )
                updated = t
                if action == "assign":
                    status, assignee = "processing", who
                elif action == "transfer":
                    assignee = to_agent
                elif action == "escalate":
                    prio, sla = new_prio, t
                elif action == "resolve":
                    status = "resolved"
                elif action == "reopen":
                    status = "processing"
                elif action == "close":
                    status, closed = "closed", ts
            counts[status] += 1
            if status in OPEN and t_now <= sla + SLA_HOURS[prio] * 3600 < t_now + 3600:
                counts["due_within_1h"] += 1
            tlines.append(
                f"{tid}\t{cust}\t{title}\t{prio}\t{status}\t{assignee or NULL}\t"
                f"{days[created // 86400 - day0]}{hms[created % 86400]}\t"
                f"{days[updated // 86400 - day0]}{hms[updated % 86400]}\t{closed or NULL}\t"
                f"{days[sla // 86400 - day0]}{hms[sla % 86400]}\n"
            )
        yield "".join(tlines), "".join(llines), len(tlines), nl
    by_status.update(counts)
