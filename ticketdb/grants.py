"""Least-privilege accounts as code: ``grants/<user>.sql`` applied by ``ticketdb grants apply``.

Why users with direct grants and not roles: MySQL 8 and MariaDB both have roles, but they
differ where it matters: activation (MySQL needs SET DEFAULT ROLE or
activate_all_roles_on_login, MariaDB a per-user default role), role privileges in a DEFINER
routine's context, ``CREATE ROLE IF NOT EXISTS`` and SHOW GRANTS output. Plain
``CREATE USER IF NOT EXISTS`` + ``ALTER USER`` + ``GRANT`` means the same thing on both, is
idempotent and is what the tests check.

The SQL lives in ``grants/*.sql`` with placeholders: ``{{schema}}`` (the DSN's database, quoted
here), ``{{account}}`` and ``{{password}}`` (sent as bound parameters, so a password is never
part of a string we build, print or log). Passwords come only from the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import connection, error_code, quote_ident, sql_error
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.project import read_sql_file
from ticketdb.sqlscript import split

#: account name -> environment variable holding its password (apply order)
USERS: dict[str, str] = {
    "ticketdb_migrator": "TICKETDB_MIGRATOR_PASSWORD",
    "ticketdb_app": "TICKETDB_APP_PASSWORD",
    "ticketdb_reporter": "TICKETDB_REPORTER_PASSWORD",
}
_OBJECT = re.compile(
    r"\bON\s+(?:(PROCEDURE|FUNCTION|TABLE)\s+)?\{\{schema\}\}\.(`[^`]+`|\w+|\*)", re.IGNORECASE
)
_HOST_OK = re.compile(r"^[A-Za-z0-9_.%:\-/]+$")


@dataclass
class AppliedUser:
    user: str
    host: str
    statements: int = 0
    skipped: list[str] = field(default_factory=list)  # grants on objects that do not exist yet

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def grants_dir(root: Path) -> Path:
    return root / "grants"


def load(root: Path, user: str) -> list[str]:
    """The statements of grants/<user>.sql, placeholders still in."""
    path = grants_dir(root) / f"{user}.sql"
    if not path.is_file():
        raise UsageError(f"no grant file {path}")
    return [s.text for s in split(read_sql_file(path))]


def granted_routines(root: Path) -> set[str]:
    """Routines a grant file grants EXECUTE on. Re-creating one drops that grant (the server
    revokes a dropped routine's privileges, automatic_sp_privileges), and the migrator may not
    grant it back: ``migrate up`` says when ``grants apply`` is needed again."""
    names = set()
    for user in USERS:
        if (grants_dir(root) / f"{user}.sql").is_file():
            targets = (_target(s) for s in load(root, user))
            names |= {t[1] for t in targets if t and t[0] in ("PROCEDURE", "FUNCTION")}
    return names


def render(statement: str, schema: str) -> str:
    """Make one statement executable with pyformat parameters ``user``/``host``/``password``."""
    text = statement.replace("%", "%%")
    text = text.replace("{{schema}}", quote_ident(schema).replace("%", "%%"))
    text = text.replace("{{account}}", "%(user)s@%(host)s")
    return text.replace("{{password}}", "%(password)s")


def passwords(env: Mapping[str, str], users: list[str]) -> dict[str, str]:
    """Every password, or one error naming all missing variables (nothing is applied then)."""
    missing = [USERS[u] for u in users if not env.get(USERS[u])]
    if missing:
        raise TicketdbError(
            f"missing password environment variable(s): {', '.join(missing)} "
            "(set them; passwords are never read from files or flags)"
        )
    return {u: env[USERS[u]] for u in users}


def _existing_objects(conn: Any) -> set[tuple[str, str]]:
    """Tables, views and routines a GRANT may name (triggers and events cannot be granted)."""
    found = {("TABLE", name.lower()) for name, _type in catalog.tables(conn)}
    return found | {
        (kind, name.lower())
        for kind, name in catalog.objects(conn)
        if kind not in ("TRIGGER", "EVENT")
    }


def _target(statement: str) -> tuple[str, str] | None:
    """(kind, name) a GRANT names inside the schema, or None for ``schema.*`` / non-GRANTs."""
    if not statement.lstrip().upper().startswith("GRANT"):
        return None
    m = _OBJECT.search(statement)
    if not m or m.group(2) == "*":
        return None
    return ((m.group(1) or "TABLE").upper(), m.group(2).strip("`").lower())


def _nothing_to_revoke(statement: str, exc: pymysql.err.MySQLError) -> bool:
    """A grant file's REVOKE of a privilege the account does not hold: already as wanted
    (1141/1147: "there is no such grant"; neither server has REVOKE IF EXISTS in both)."""
    return statement.lstrip().upper().startswith("REVOKE") and error_code(exc) in (1141, 1147)


def apply(
    dsn: DSN,
    root: Path,
    *,
    host: str = "%",
    users: list[str] | None = None,
    reset: bool = False,
    env: Mapping[str, str] | None = None,
) -> list[AppliedUser]:
    """Create/update the accounts for ``dsn.database``; safe to re-run (idempotent).

    ``reset`` first revokes everything the account holds, so privileges removed from a grant
    file go away too (the account has no rights for the moment in between).
    """
    chosen = users or list(USERS)
    unknown = [u for u in chosen if u not in USERS]
    if unknown:
        raise UsageError(f"unknown account(s) {', '.join(unknown)} (known: {', '.join(USERS)})")
    if not _HOST_OK.match(host):
        raise UsageError(f"bad --host {host!r}")
    secrets = passwords(os.environ if env is None else env, chosen)
    scripts = {u: load(root, u) for u in chosen}  # every file readable before touching users
    results: list[AppliedUser] = []
    with connection(dsn) as conn:
        existing = _existing_objects(conn)
        with conn.cursor() as cur:
            for user in chosen:
                done = AppliedUser(user, host)
                params = {"user": user, "host": host, "password": secrets[user]}
                statements = list(scripts[user])
                if reset:  # just before the first GRANT, after CREATE/ALTER USER
                    first = next(
                        (i for i, s in enumerate(statements) if s.upper().startswith("GRANT")),
                        len(statements),
                    )
                    statements.insert(first, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM {{account}}")
                for stmt in statements:
                    target = _target(stmt)
                    if target is not None and target not in existing:
                        done.skipped.append(f"{target[0].lower()} {target[1]}")
                        continue
                    try:
                        cur.execute(render(stmt, dsn.database), params)
                    except pymysql.err.MySQLError as exc:
                        if _nothing_to_revoke(stmt, exc):
                            continue
                        # the server's message never contains the password; our text neither
                        raise sql_error(exc, where=f"grants/{user}.sql") from None
                    done.statements += 1
                results.append(done)
    return results


def plan(root: Path, schema: str, *, host: str = "%", users: list[str] | None = None) -> str:
    """The SQL ``apply`` would run, password shown as '***' (for review; runs nothing)."""
    out = []
    for user in users or list(USERS):
        out.append(f"-- {user}@{host}")
        for stmt in load(root, user):
            text = stmt.replace("{{schema}}", quote_ident(schema))
            text = text.replace("{{account}}", f"'{user}'@'{host}'")
            out.append(text.replace("{{password}}", "'***'") + ";")
    return "\n".join(out)
