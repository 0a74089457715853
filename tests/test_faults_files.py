"""A project file that is not UTF-8: one line naming the file and exit 1, in every command that
reads it (`lint` reports it as TDB000 on its own side)."""

from __future__ import annotations

import pytest
from faultkit import clean, run

from ticketdb.dsn import DSN
from ticketdb.project import Project

BAD = b"\xff\xfe not utf-8 \xc3\x28\n"


@pytest.mark.parametrize("where", ["triggers/ticket_logs_after_insert.sql", "migration"])
@pytest.mark.parametrize(
    "command",
    [["migrate", "up"], ["migrate", "status"], ["migrate", "plan"], ["drift"]],
)
def test_invalid_utf8_is_one_line_naming_the_file(
    module_migrated_dsn: DSN, project_copy: Project, where: str, command: list[str]
) -> None:
    if where == "migration":
        path = project_copy.migrations / "0010_service_tickets_closed_index.sql"
    else:
        path = project_copy.root / where
    path.write_bytes(path.read_bytes() + b"-- " + BAD)
    res = run(*command, "--dsn", module_migrated_dsn.url(), "--project", str(project_copy.root))
    text = clean(res)
    assert res.returncode == 1, text
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    assert str(path) in errors[0] and "not valid UTF-8" in errors[0]
