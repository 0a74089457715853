"""Was every acknowledged call kept? Checked after a background run (background.py) against
what the server holds, ticket by ticket.

A worker records each call the server acknowledged, as (ticket id, step), in order. Afterwards,
for every ticket those calls touched:

* **lost**: an acknowledged create without its ticket row, or an acknowledged action without
  its log row (counted per action type: two acknowledged replies need two reply logs);
* **extra logs**: more logs of an action than acknowledged calls, on a ticket none of whose
  calls failed (a call applied twice, e.g. a trigger that fired on a copy and again on the
  original);
* **status mismatches**: the stored status differs from the status the acknowledged calls lead
  to (tickets with a failed call excepted: its outcome is unknown), or the stored status and
  agent differ from the replay of the ticket's own logs through the state machine, or the
  ticket's ``log_seq`` differs from its log count.

A call that failed is not lost (the client was told); it is counted as ``unknown``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ticketdb.bench.load import WorkerResult

#: The status a ticket is in after each step of a life (lives.STEPS order).
STATUS_AFTER = {"create": "pending", "assign": "processing", "reply": "processing",
                "transfer": "processing", "resolve": "resolved", "close": "closed"}  # fmt: skip
MAX_SAMPLES = 5


@dataclass
class AckCheck:
    acknowledged: int = 0
    tickets: int = 0
    lost: int = 0
    extra_logs: int = 0
    status_mismatches: int = 0
    unknown: int = 0
    samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.extra_logs == 0 and self.status_mismatches == 0

    def problem(self, text: str) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {"acknowledged": self.acknowledged, "tickets": self.tickets, "lost": self.lost,
                "extra_logs": self.extra_logs, "status_mismatches": self.status_mismatches,
                "unknown": self.unknown, "samples": self.samples}  # fmt: skip


def replay(logs: list[tuple[str, Any, Any]]) -> tuple[str, Any]:
    """(status, agent) after a ticket's logs (action, agent, to_agent), from pending/none."""
    status, agent = "pending", None
    for action, by, to in logs:
        if action == "assign":
            status, agent = "processing", by
        elif action == "transfer":
            agent = to
        elif action == "resolve":
            status = "resolved"
        elif action == "reopen":
            status = "processing"
        elif action == "close":
            status = "closed"
    return status, agent


def check(conn: Any, results: list[WorkerResult]) -> AckCheck:
    """Compare the workers' acknowledged calls with the rows on the server (see module doc)."""
    acked: dict[int, list[str]] = {}
    unsure: set[int] = set()
    out = AckCheck()
    for r in results:
        out.acknowledged += len(r.acked)
        out.unknown += len(r.unknown)
        for tid, step in r.acked:
            acked.setdefault(tid, []).append(step)
        unsure.update(tid for tid, _ in r.unknown if tid is not None)
    out.tickets = len(acked)
    if not acked:
        return out
    lo, hi = min(acked), max(acked)
    with conn.cursor() as cur:
        cur.execute("SELECT id, current_status, assigned_agent_id, log_seq FROM service_tickets "
                    "WHERE id BETWEEN %s AND %s", (lo, hi))  # fmt: skip
        stored = {int(r[0]): r[1:] for r in cur.fetchall()}
        cur.execute("SELECT ticket_id, action_type, agent_id, to_agent_id FROM ticket_logs "
                    "WHERE ticket_id BETWEEN %s AND %s ORDER BY ticket_id, ticket_seq, id",
                    (lo, hi))  # fmt: skip
        logs: dict[int, list[tuple[str, Any, Any]]] = {}
        for tid, action, by, to in cur.fetchall():
            logs.setdefault(int(tid), []).append((action, by, to))
    for tid, steps in acked.items():
        if tid not in stored:
            out.lost += len(steps)
            out.problem(f"ticket {tid}: acknowledged {steps}, ticket row missing")
            continue
        status, agent, log_seq = stored[tid]
        mine = logs.get(tid, [])
        want = Counter(s for s in steps if s != "create")
        have = Counter(a for a, _, _ in mine)
        missing = sum(max(0, n - have[a]) for a, n in want.items())
        if missing:
            out.lost += missing
            out.problem(f"ticket {tid}: acknowledged {steps}, logged {[a for a, _, _ in mine]}")
        if tid in unsure:
            continue
        extra = sum(max(0, n - want[a]) for a, n in have.items())
        if extra:
            out.extra_logs += extra
            out.problem(f"ticket {tid}: acknowledged {steps}, logged {[a for a, _, _ in mine]}")
        if (status != STATUS_AFTER[steps[-1]] or (status, agent) != replay(mine)
                or int(log_seq) != len(mine)):  # fmt: skip
            out.status_mismatches += 1
            out.problem(f"ticket {tid}: acknowledged {steps}, stored {status}/agent {agent}/"
                        f"log_seq {log_seq}, its {len(mine)} logs replay to {replay(mine)}")
    return out
