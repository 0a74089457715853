from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.registry import Rule, register
from ticketdb.sqlscript import Token


@register
class TriggerRowReference(Rule):
    """A trigger reads OLD in INSERT/NEW in DELETE, assigns OLD, or assigns NEW in an AFTER trigger.

    MySQL/MariaDB reject these when the trigger is created (ERROR 1363 and 1362): ``OLD`` does
    not exist in an INSERT trigger nor ``NEW`` in a DELETE trigger, ``OLD`` is read-only, and
    ``SET NEW.col`` only works in a BEFORE trigger.

    **Anti-pattern**

    .. code-block:: sql

        CREATE TRIGGER logs_ai AFTER INSERT ON ticket_logs FOR EACH ROW
        BEGIN
            SET NEW.note = TRIM(OLD.note);
        END

    **Best practice**

    .. code-block:: sql

        CREATE TRIGGER logs_bi BEFORE INSERT ON ticket_logs FOR EACH ROW
        BEGIN
            SET NEW.note = TRIM(NEW.note);
        END
    """

    code = "TDB018"
    name = "trigger-row-reference"
    severity = "error"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        r = ctx.statement.routine
        if r is None or r.kind != "TRIGGER":
            return
        missing = {"INSERT": "old", "DELETE": "new"}.get(r.event or "")
        for tok, target in _select_into_targets(ctx.statement.tokens, r.body_offset):
            if target == "old":
                yield tok.offset, "SELECT … INTO OLD.…: OLD is read-only"
            elif target == "new" and r.timing == "AFTER":
                yield (
                    tok.offset,
                    "SELECT … INTO NEW.… in an AFTER trigger: the row is already written; "
                    "use a BEFORE trigger",
                )
        for unit in ctx.statement.units:
            if unit.tree is None:
                continue
            for col in unit.find_all(exp.Column):
                q = col.table.lower()
                if q and q == missing:
                    yield (
                        unit.offset_of(col),
                        (
                            f"there is no {q.upper()} row in an {r.event} trigger "
                            f"({col.table}.{col.name})"
                        ),
                    )
            if not isinstance(unit.tree, exp.Set):
                continue
            for item in unit.tree.expressions:
                target = item.this.this if isinstance(item.this, exp.EQ) else None
                if not isinstance(target, exp.Column):
                    continue
                q = target.table.lower()
                if q == "old":
                    yield unit.offset_of(target), f"OLD.{target.name} is read-only"
                elif q == "new" and r.timing == "AFTER":
                    yield (
                        unit.offset_of(target),
                        (
                            f"SET NEW.{target.name} in an AFTER trigger: the row is already "
                            "written; use a BEFORE trigger"
                        ),
                    )


def _select_into_targets(toks: list[Token], body_at: int) -> Iterator[tuple[Token, str]]:
    """``SELECT … INTO a, NEW.b`` targets that are row references: (token, "new"|"old")."""
    for i, t in enumerate(toks):
        if t.offset < body_at or t.kind != "word" or t.upper != "INTO" or i == 0:
            continue
        if toks[i - 1].upper in ("INSERT", "REPLACE", "IGNORE", "LOW_PRIORITY", "DELAYED",
                                 "HIGH_PRIORITY"):  # fmt: skip
            continue
        j = i + 1
        while j < len(toks):
            if j + 2 < len(toks) and toks[j + 1].text == ".":
                if toks[j].upper in ("NEW", "OLD"):
                    yield toks[j], toks[j].upper.lower()
                j += 3
            elif toks[j].text == "@":
                j += 2
            else:
                j += 1
            if j < len(toks) and toks[j].text == ",":
                j += 1
                continue
            break
