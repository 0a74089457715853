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


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('steps = [step("SELECT 1",\n', "was never closed (line 3)"),
        ('raise RuntimeError("tables not ready")\n', "RuntimeError: tables not ready"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [["migrate", "up"], ["migrate", "status"], ["migrate", "plan", "--check-ddl"],
     ["migrate", "down", "--yes"], ["drift"]],  # fmt: skip
)
def test_a_python_migration_that_does_not_import_is_one_line_naming_it(
    module_migrated_dsn: DSN, project_copy: Project, body: str, said: str, command: list[str]
) -> None:
    """yoyo loads a Python migration when first asked for its steps, and reported one that
    does not import with a traceback (logged, then raised) from wherever that was."""
    last = sorted(p.stem for p in project_copy.migrations.glob("0*.sql")
                  if ".rollback" not in p.name)  # fmt: skip
    path = project_copy.migrations / "0099_broken.py"
    path.write_text(f'"""depends: {last[-1]}"""\nfrom yoyo import step\n{body}')
    res = run(*command, "--dsn", module_migrated_dsn.url(), "--project", str(project_copy.root))
    text = clean(res)
    assert res.returncode == 1, text
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    assert errors[0].startswith(f"error: {path}: cannot load this migration: "), res.stderr
    assert said in errors[0], res.stderr
    assert len([ln for ln in res.stderr.splitlines() if ln.strip()]) == 1, res.stderr


@pytest.mark.parametrize("case", ["missing", "cycle"])
@pytest.mark.parametrize("command", [["migrate", "up"], ["migrate", "status"], ["drift"]])
def test_a_dependency_on_a_missing_migration_or_a_cycle_is_one_line(
    module_migrated_dsn: DSN, project_copy: Project, case: str, command: list[str]
) -> None:
    """yoyo raised these from deep inside (a cycle as a raw CycleError, its own conversion
    being lazy) with a traceback."""
    folder = project_copy.migrations
    last = sorted(p.stem for p in folder.glob("0*.sql") if ".rollback" not in p.name)[-1]
    first = "0097_nope" if case == "missing" else "0099_b"
    (folder / "0098_a.sql").write_text(f"-- depends: {first} {last}\nCREATE TABLE za (i INT);\n")
    (folder / "0098_a.rollback.sql").write_text("DROP TABLE za;\n")
    (folder / "0099_b.sql").write_text("-- depends: 0098_a\nCREATE TABLE zb (i INT);\n")
    (folder / "0099_b.rollback.sql").write_text("DROP TABLE zb;\n")
    res = run(*command, "--dsn", module_migrated_dsn.url(), "--project", str(project_copy.root))
    text = clean(res)
    assert res.returncode == 1, text
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    expected = (f"error: {folder / '0098_a.sql'}: depends on 0097_nope, which is not in {folder}"
                if case == "missing"
                else "error: migrations that depend on each other in a cycle: 0098_a, 0099_b "
                     "(fix their `depends`)")  # fmt: skip
    assert lines == [expected], res.stderr
