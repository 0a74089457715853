"""``ticketdb bench``: a scenario registry (registry.py), built-in scenarios (scenarios/), the
timing runner (runner.py) and its Markdown / PNG renderings (output.py)."""

from ticketdb.bench.registry import Scenario, register
from ticketdb.bench.runner import run_bench

# registry.scenarios() is not re-exported: the subpackage ticketdb.bench.scenarios replaces a
# package attribute of that name as soon as it is imported, so `from ticketdb.bench import
# scenarios` gave the function or the module depending on import order
__all__ = ["Scenario", "register", "run_bench"]
