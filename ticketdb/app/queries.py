"""Load ``queries/<name>.sql`` and bind its ``:name`` placeholders (see queries/README.md).

Bench and reports both go through :func:`load_query`, so each query exists exactly once, in SQL;
the app's own statements (workflow, alerts) through :func:`app_query`, so `ticketdb lint` checks
them with the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ticketdb import PROJECT_ROOT
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.project import Project, read_sql_file
from ticketdb.retry import retry_conflicts

# string literals, quoted identifiers and comments are copied verbatim; only a bare :name binds
_TOKENS = re.compile(
    r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|`[^`]*`|--[^\n]*|\#[^\n]*|/\*.*?\*/"""
    r"""|(?<![:\w]):([A-Za-z_]\w*)|%""",
    re.S,
)
_PARAM_DOC = re.compile(r"^--\s*param\s+:(\w+)", re.M)
_PARAM_TYPE = re.compile(r"^--\s*param\s+:(\w+)\s+(\w+)", re.M)
_RUNNER_DOC = re.compile(r"^--\s*runner:\s*(\w+)\s*$", re.M)


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    text: str
    pyformat: str  # the text with %(name)s placeholders and literal % doubled
    params: frozenset[str]
    qmark: str = ""  # the text with a `?` per placeholder, for PREPARE (the report runner)
    positions: tuple[str, ...] = ()  # the parameter each `?` of ``qmark`` binds, in order
    #: ``-- runner: report_run``: the procedure that may run it (loaded by ``migrate up``)
    runner: str | None = None

    @property
    def description(self) -> str:
        """The header's first line after ``-- name:``."""
        for line in self.text.splitlines()[1:]:
            if line.startswith("--") and not line.startswith("-- name:"):
                return line.lstrip("- ").strip()
        return ""

    @property
    def param_types(self) -> dict[str, str]:
        """Each parameter's TYPE as its ``-- param :name TYPE`` header line writes it."""
        return dict(_PARAM_TYPE.findall(self.text))

    def bind(self, **values: Any) -> tuple[str, dict[str, Any]]:
        missing = self.params - values.keys()
        extra = values.keys() - self.params
        if missing or extra:
            raise UsageError(
                f"{self.path.name}: "
                + "; ".join(
                    part
                    for part in (
                        f"missing parameter(s) {', '.join(sorted(missing))}" if missing else "",
                        f"unknown parameter(s) {', '.join(sorted(extra))}" if extra else "",
                    )
                    if part
                )
            )
        return self.pyformat, values

    def run(self, conn: Any, **values: Any) -> tuple[list[str], list[tuple]]:
        """Execute; returns (column names, rows). A read aborted by a Galera applier or a
        TOI DDL (1213) is simply run again."""
        sql, args = self.bind(**values)

        def once() -> tuple[list[str], list[tuple]]:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                columns = [d[0] for d in cur.description] if cur.description else []
                rows = [
                    tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cur.fetchall()
                ]
            return columns, rows

        return retry_conflicts(once)


def parse(name: str, path: Path, text: str) -> Query:
    params: set[str] = set()
    positions: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            params.add(m.group(1))
            return f"%({m.group(1)})s"
        return m.group(0).replace("%", "%%")  # PyMySQL applies `%` to the whole text

    def qmark(m: re.Match[str]) -> str:
        if m.group(1):
            positions.append(m.group(1))
            return "?"
        return m.group(0)

    pyformat = _TOKENS.sub(sub, text)
    prepared = _TOKENS.sub(qmark, text)
    documented = set(_PARAM_DOC.findall(text))
    if documented != params:
        raise TicketdbError(
            f"{path}: header documents parameters {sorted(documented)} but the query uses "
            f"{sorted(params)} (queries/README.md)"
        )
    runner = _RUNNER_DOC.search(text)
    return Query(
        name,
        path,
        text,
        pyformat.strip().rstrip(";"),
        frozenset(params),
        prepared.strip().rstrip(";"),
        tuple(positions),
        runner.group(1) if runner else None,
    )


@cache
def _load(path: Path, mtime: float) -> Query:
    return parse(path.stem, path, read_sql_file(path))


def load_query(project: Project, name: str) -> Query:
    path = project.queries / f"{name}.sql"
    if not path.is_file():
        raise TicketdbError(f"no query {name!r}: {path} does not exist")
    return _load(path, path.stat().st_mtime)


def all_queries(project: Project) -> list[Query]:
    return [load_query(project, p.stem) for p in sorted(project.queries.glob("*.sql"))]


@cache
def app_query(name: str) -> Query:
    """A statement of the ticket app itself (``queries/workflow_*.sql``, ``alerts_*.sql``): it
    belongs to this package's schema, not to whatever ``--project`` names, and is read once per
    process (the workflow runs it on every call)."""
    return load_query(Project(PROJECT_ROOT), name)
