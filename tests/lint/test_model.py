"""The parse model's shortcuts give what sqlglot's own walk gives: every unit of every SQL file
here (project, lint corpus, fixtures), node for node and in the same order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlglot import exp

from ticketdb import PROJECT_ROOT
from ticketdb.lint.parse import client
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


def test_normalise_shortcut_is_taken_only_where_normalise_would_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """normalise() returns the text at once when none of its words occurs: on every statement
    and routine-body piece here, the full pass must agree (and must change the ones it
    skips nothing of)."""
    from ticketdb.lint.parse import unit as unit_mod
    from ticketdb.sqlscript import tokenize

    extra = ["REPLACE INTO t VALUES (1)", "UPDATE LOW_PRIORITY t SET a = 1",
             "SELECT a INTO @x FROM t", "SELECT :id", "CREATE TABLE t (f FLOAT UNSIGNED)",
             "ALTER TABLE t ALTER INDEX k IGNORED", "DELETE QUICK FROM t"]  # fmt: skip
    statements = [st for path in _sql_files() for st in load(path, str(path)).statements]
    texts = [st.text for st in statements]
    texts += [u.text for st in statements for u in st.units if not u.prefix]
    skipped = changed = 0
    for text in [*texts, *extra]:
        try:
            toks = [t for t in tokenize(text) if t.kind not in ("ws", "comment")]
        except Exception:
            continue
        if not toks:
            continue
        fast = unit_mod.normalise(text, 0, toks)
        with monkeypatch.context() as m:
            m.setattr(unit_mod, "_may_need_blanking", lambda text, toks: True)
            full = unit_mod.normalise(text, 0, toks)
        assert fast == full, text
        skipped += fast is text
        changed += full != text
    assert skipped > 200 and changed >= len(extra)


#: the client-command pre-check as one MULTILINE pattern (slow: tried at every character)
_ONE_PATTERN = re.compile(
    r"\\[A-Za-z.]|^[ \t]*source[ \t]|^[ \t]*use[ \t]+[^;\s]+[ \t\r]*$", re.I | re.M
)


@pytest.mark.parametrize("text", [
    "x\\G", "SELECT 1;\nsource a.sql\n", "source a.sql", "  SOURCE  x", "use db\n", "use db",
    "use db;\n", "x\n  use `d b`\r\nSELECT", "abc\\.x", "no\\ cmd", "user x\n", "sourcex\n",
    "x\nuse db ; \n", "x\n\tuse db \t\r\n", "use\tdb\t", "SELECT 1;\r\nUSE shop\r\n",
])  # fmt: skip
def test_client_command_precheck_says_what_the_one_pattern_says(text: str) -> None:
    assert client._may_hold_commands(text) == bool(_ONE_PATTERN.search(text))
