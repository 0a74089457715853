"""The rule registry refuses duplicates and bad declarations; severities resolve in order."""

from __future__ import annotations

import pytest

from ticketdb.errors import UsageError
from ticketdb.lint import registry
from ticketdb.lint.config import normalise_levels
from ticketdb.lint.registry import RegistryError, Rule, load_rules, register


def test_codes_are_stable_and_unique() -> None:
    rules = load_rules()
    assert list(rules) == sorted(rules)
    assert all(code.startswith("TDB") and len(code) == 6 for code in rules)
    assert len({r.name for r in rules.values()}) == len(rules)


def _rule(code: str, name: str, severity: str = "warning") -> type[Rule]:
    return type("Dummy", (Rule,), {"code": code, "name": name, "severity": severity,
                                    "__doc__": "Dummy."})  # fmt: skip


def test_registering_a_code_twice_raises() -> None:
    load_rules()
    with pytest.raises(RegistryError, match="TDB002 registered twice"):
        register(_rule("TDB002", "another-name"))
    with pytest.raises(RegistryError, match="name unknown-column registered twice"):
        register(_rule("TDB998", "unknown-column"))
    with pytest.raises(RegistryError, match="severity"):
        register(_rule("TDB997", "loud", "fatal"))
    assert "TDB998" not in registry._RULES and "TDB997" not in registry._RULES


def test_levels_accept_codes_and_names_and_reject_the_rest() -> None:
    assert normalise_levels({"tdb002": "OFF", "portability": "error"}, "x") == {
        "TDB002": "off",
        "TDB010": "error",
    }
    with pytest.raises(UsageError):
        normalise_levels({"TDB999": "error"}, "x")
    with pytest.raises(UsageError):
        normalise_levels({"TDB002": "fatal"}, "x")
