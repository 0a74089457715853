"""Exceptions the CLI turns into one clear line and an exit code (never a traceback)."""

from __future__ import annotations


class TicketdbError(Exception):
    """A failure the user can act on; ``exit_code`` 1 = check/operation failed, 2 = usage."""

    exit_code = 1


class UsageError(TicketdbError):
    """Bad input: malformed DSN, unknown migration id, conflicting options."""

    exit_code = 2


class ConnectionFailed(TicketdbError):
    """The server could not be reached or refused our credentials (``code``: the server's or
    the client library's error number, when there is one)."""

    def __init__(self, message: str, code: int | None = None):
        self.code = code
        super().__init__(message)


class SqlError(TicketdbError):
    """A statement failed on the server; carries the server's own code and message."""

    def __init__(self, message: str, code: int | None = None, where: str | None = None):
        self.code = code
        self.where = where
        prefix = f"{where}: " if where else ""
        suffix = f" (server error {code})" if code else ""
        super().__init__(f"{prefix}{message}{suffix}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so every ``finally`` cleans up."""

    signal_number = 15
