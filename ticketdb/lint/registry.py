"""One registry of lint rules: each rule class declares its code, name and default severity once.

Rules live one per module in ``ticketdb/lint/rules/<code>_<slug>.py`` and register themselves
with :func:`register`; registering a code (or a name) twice raises, so a copy-pasted rule cannot
silently shadow another (Skeema's registry does the same).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from ticketdb.lint.findings import SEVERITIES

if TYPE_CHECKING:
    from ticketdb.lint.context import FileContext, ProjectContext, StatementContext


class Rule:
    """Base class. Override :meth:`check_statement`, :meth:`check_file` or :meth:`check_project`.

    The first two yield ``(offset, message)`` pairs, ``offset`` being a character offset in the
    file; ``check_project`` yields ``(path, offset, message)``. The engine turns them into
    findings with line, column and the configured severity.
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[str] = "warning"

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0].strip()

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        return iter(())

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        return iter(())

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        return iter(())


class RegistryError(RuntimeError):
    """A rule was declared wrongly (duplicate code/name, bad severity)."""


_RULES: dict[str, type[Rule]] = {}
_loaded = False


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry; a duplicate code or name raises."""
    if not cls.code or not cls.name:
        raise RegistryError(f"{cls.__name__}: code and name are required")
    if cls.severity not in SEVERITIES:
        raise RegistryError(f"{cls.code}: severity {cls.severity!r} not in {SEVERITIES}")
    if cls.code in _RULES:
        raise RegistryError(f"rule code {cls.code} registered twice ({_RULES[cls.code].__name__})")
    if any(r.name == cls.name for r in _RULES.values()):
        raise RegistryError(f"rule name {cls.name} registered twice")
    _RULES[cls.code] = cls
    return cls


def load_rules() -> dict[str, type[Rule]]:
    """Import every module of ``ticketdb.lint.rules`` once; returns code -> rule class, sorted."""
    global _loaded
    if not _loaded:
        import ticketdb.lint.rules as pkg

        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
        _loaded = True
    return dict(sorted(_RULES.items()))
