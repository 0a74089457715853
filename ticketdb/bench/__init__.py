"""``ticketdb bench``: a scenario registry (registry.py), built-in scenarios (scenarios/), the
timing runner (runner.py) and its Markdown / PNG renderings (output.py)."""

from ticketdb.bench.registry import Scenario, register, scenarios
from ticketdb.bench.runner import run_bench

__all__ = ["Scenario", "register", "run_bench", "scenarios"]
