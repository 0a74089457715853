"""Versioned migrations (yoyo) followed by repeatable objects (checksum-tracked object files)."""

from ticketdb.migrate.runner import MigrateResult, break_lock, down, plan, repair, status, up

__all__ = ["MigrateResult", "break_lock", "down", "plan", "repair", "status", "up"]
