"""docs/lint.md's rule reference is generated from the registry and must be current."""

from __future__ import annotations

from ticketdb.lint import docs
from ticketdb.lint.registry import load_rules


def test_docs_rule_table_is_current() -> None:
    current = docs.DOC.read_text(encoding="utf-8")
    assert docs.render(current) == current, "run: python -m ticketdb.lint.docs"


def test_docs_mention_every_rule() -> None:
    text = docs.DOC.read_text(encoding="utf-8")
    for code, cls in load_rules().items():
        assert f"### {code}" in text and cls.name in text
