from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.registry import Rule, register
from ticketdb.lint.typeinfo import narrowing
from ticketdb.sqlscript import Token


@register
class DestructiveMigration(Rule):
    """A migration destroys data (DROP TABLE/COLUMN/PARTITION, TRUNCATE, narrowing, ENUM values).

    Flagged for review (rollback files are exempt: undoing is their job). Once reviewed, keep
    it with an inline ``-- ticketdb: allow TDB012 <why>``.

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE ticket_logs
            MODIFY action_type ENUM('assign', 'reply', 'resolve') NOT NULL,
            DROP COLUMN note;

    **Best practice**

    .. code-block:: sql

        -- expand first, migrate the data, and contract in a later, reviewed release
        ALTER TABLE ticket_logs ADD COLUMN note_v2 TEXT NULL;
    """

    code = "TDB012"
    name = "destructive-migration"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        if ctx.file.role != "migration":
            return
        st = ctx.statement
        tree = st.tree
        unit = st.units[0] if st.units else None
        if st.words[:2] == ["TRUNCATE", "TABLE"] or st.words[:1] == ["TRUNCATE"]:
            yield st.offset, "TRUNCATE deletes every row"
        if st.startswith("ALTER", "TABLE") or st.words[:3] in (
            ["ALTER", "ONLINE", "TABLE"],
            ["ALTER", "IGNORE", "TABLE"],
        ):
            yield from _partition_drops(st.tokens)
        if unit is None or tree is None:
            return
        if isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "TABLE":
            for t in tree.args.get("tables") or []:
                yield unit.offset_of(t), f"DROP TABLE {t.name} deletes the table and its data"
        if not isinstance(tree, exp.Alter) or not isinstance(tree.this, exp.Table):
            return
        table = ctx.schema.table(tree.this.name)
        for a in tree.args.get("actions") or []:
            if isinstance(a, exp.Drop) and (a.args.get("kind") or "").upper() == "COLUMN":
                for c in a.args.get("tables") or []:
                    if table is not None and not table.has_column(c.name):
                        continue  # no such column: TDB002 says so, and no data is deleted
                    yield (
                        unit.offset_of(a),
                        f"DROP COLUMN {tree.this.name}.{c.name} deletes its data",
                    )
            elif isinstance(a, exp.ModifyColumn) and table is not None:
                old_ref = a.args.get("rename_from")
                old_name = (old_ref.name if old_ref is not None else a.this.name).lower()
                old = table.columns.get(old_name)
                new_type = a.this.args.get("kind")
                if old is None or old.dtype is None or new_type is None:
                    continue
                why = narrowing(old.dtype, new_type)
                if why:
                    yield unit.offset_of(a), f"{tree.this.name}.{old.name}: {why}"


def _partition_drops(toks: list[Token]) -> Iterator[tuple[int, str]]:
    """``ALTER TABLE … DROP PARTITION p`` / ``TRUNCATE PARTITION p``: the rows in p are gone."""
    depth = 0
    for i, t in enumerate(toks[:-1]):
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        elif depth == 0 and t.upper in ("DROP", "TRUNCATE") and toks[i + 1].upper == "PARTITION":
            names = []
            for u in toks[i + 2 :]:
                if u.kind not in ("word", "quoted", "punct") or u.text == ";":
                    break
                if u.kind != "punct":
                    names.append(u.text.strip("`"))
                elif u.text != ",":
                    break
            shown = ", ".join(names) or "?"
            yield t.offset, f"{t.upper} PARTITION {shown} deletes the rows in it"
