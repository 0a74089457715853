"""Versioned migrations (yoyo) followed by repeatable objects (checksum-tracked object files)."""

from ticketdb.migrate.rollback import down, plan_down
from ticketdb.migrate.runner import MigrateResult, break_lock, repair, up
from ticketdb.migrate.status import plan, status

__all__ = ["MigrateResult", "break_lock", "down", "plan", "plan_down", "repair", "status", "up"]
