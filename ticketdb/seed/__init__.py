"""Deterministic bulk seeding: generator (generate.py), FIFO → LOAD DATA (load.py), the phases
around it (runner.py, reported through report.py) and the raw LOAD DATA reference it is measured
against (raw.py)."""

from ticketdb.seed.generate import GenStats, SeedSpec
from ticketdb.seed.report import SeedResult
from ticketdb.seed.runner import seed

__all__ = ["GenStats", "SeedResult", "SeedSpec", "seed"]
