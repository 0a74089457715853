"""The result type of every ``doctor`` check (shared by the server and Galera checks)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
