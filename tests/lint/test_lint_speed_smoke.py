"""benchmarks/lint_speed.py at a tiny scale, so the measuring script cannot rot between the
runs that are done by hand on a quiet machine (its numbers are not asserted: it is no timed
test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ticketdb import PROJECT_ROOT


def test_lint_speed_script_runs_and_its_inputs_lint_clean(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    keep = tmp_path / "inputs"
    subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "lint_speed.py"), "--dump-mb", "0.3",
         "--one-line", "2000", "--routines", "6", "--big-routines", "8",
         "--json", str(out), "--keep", str(keep)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    result = json.loads(out.read_text())
    for part in ("dump", "one_line_dump", "routines", "routines_big"):
        # the generated SQL is valid: a finding here would measure error reporting instead
        assert result[part]["exit"] == 0 and result[part]["error_findings"] == 0, result[part]
        assert result[part]["seconds"] > 0 and result[part]["peak_rss_mb"] > 0
        assert result[part]["peak_rss_tree_mb"] >= result[part]["peak_rss_mb"]
    assert result["routines"]["lines"] == (keep / "routines.sql").read_text().count("\n") > 100
    assert result["dump"]["megabytes"] >= 0.3
    assert set(result["targets"]) == {
        "dump_mb_per_s", "dump_peak_rss_mb", "routine_lines_per_s", "big_routines_mb_per_s",
        "big_routines_peak_rss_mb",
    }  # fmt: skip
    assert result["routines_big"]["mb_per_s"] > 0  # what big_routines_mb_per_s is checked on
