"""The parse model's shortcuts give what sqlglot's own walk gives: every unit of every SQL file
here (project, lint corpus, fixtures), node for node and in the same order."""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from ticketdb import PROJECT_ROOT
from ticketdb.lint.parse.files import load

QUESTIONS: list[tuple[type[exp.Expression], ...]] = [
    (exp.Column,), (exp.Table,), (exp.Query,), (exp.Func,), (exp.Create, exp.Drop, exp.Delete),
    (exp.Subquery, exp.Lateral, exp.Values), (exp.Expression,), (exp.Binary,), (exp.Alias,),
]  # fmt: skip


def _sql_files() -> list[Path]:
    dirs = ["migrations", "procedures", "triggers", "events", "queries", "tests/lint"]
    return sorted({p for d in dirs for p in (PROJECT_ROOT / d).rglob("*.sql")})


def test_nodes_and_find_all_match_sqlglots_walk() -> None:
    units = 0
    for path in _sql_files():
        for st in load(path, str(path)).statements:
            for unit in st.units:
                if unit.tree is None:
                    continue
                walked = list(unit.tree.walk())
                assert [id(n) for n in unit.nodes] == [id(n) for n in walked], path
                for types in QUESTIONS:
                    expected = [id(n) for n in walked if isinstance(n, types)]
                    assert [id(n) for n in unit.find_all(*types)] == expected, (path, types)
                units += 1
    assert units > 250
