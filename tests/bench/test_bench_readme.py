"""benchmarks/README.md is generated: it must be exactly what README.template.md and the
committed JSON files give, and the template's prose must not type in numbers of its own."""

from __future__ import annotations

import copy
import json

import pytest

from ticketdb import PROJECT_ROOT
from ticketdb.bench import readme

BENCH = PROJECT_ROOT / "benchmarks"


def test_readme_is_what_the_template_and_the_json_give():
    expected = readme.render((BENCH / "README.template.md").read_text(), readme.load(BENCH))
    assert (BENCH / "README.md").read_text() == expected, (
        "benchmarks/README.md is stale or hand-edited: run `make bench-readme`"
    )


def test_template_types_no_measured_number_into_its_prose():
    assert readme.bare_numbers((BENCH / "README.template.md").read_text()) == []


def test_a_number_typed_into_the_prose_is_caught():
    assert readme.bare_numbers("the seed took 16.6 s and 3.6× less") == ["16.6 s", "3.6×"]
    assert readme.bare_numbers("target ≤ 2 ms, ≥ 50×, ±20 %") == []
    assert readme.bare_numbers("<!-- hand -->by hand: 40 ms<!-- /hand --> {{fast:x|.1f}} ms") == []


def test_every_readme_number_follows_the_json():
    """Change one recorded value: the README must change with it (no number is frozen)."""
    docs = readme.load(BENCH)
    template = (BENCH / "README.template.md").read_text()
    before = readme.render(template, docs)
    changed = copy.deepcopy(docs)
    esc = next(s for s in changed["fast"]["scenarios"] if s["name"] == "escalation")
    esc["baseline_p50_ms"] = 123456.0
    changed["fast"]["machine"]["load_average"] = [9.99, 8.88, 7.77]
    after = readme.render(template, changed)
    assert "123,456" in after and "123,456" not in before
    assert "9.99 / 8.88 / 7.77" in after and "9.99" not in before


def test_lookup_paths():
    doc = {
        "machine": {"load_average": [0.5, 0.4, 0.3]},
        "server": {}, "dataset": {},
        "scenarios": [
            {"name": "seed_load", "phases": [{"phase": "load ticket_logs", "seconds": 13.9}]},
            {"name": "workflow_throughput", "levels": [{"clients": 16, "p99_ms": 12.5}]},
            {"name": "escalation", "p50_ms": 600.0, "explain": {"rows_escalated": 7000}},
        ],
    }  # fmt: skip
    assert readme.lookup(doc, "seed_load.phases.load ticket_logs.seconds") == 13.9
    assert readme.lookup(doc, "workflow_throughput.levels.16.p99_ms") == 12.5
    assert readme.lookup(doc, "workflow_throughput.levels.4.p99_ms") is None
    assert readme.value(doc, "escalation.p50_ms / escalation.explain.rows_escalated") == 600 / 7000
    assert readme.render("{{fast:machine.load_average}} {{fast:nope.x}} {{durable:machine.nproc}}",
                         {"fast": doc, "durable": None}) == "0.5 / 0.4 / 0.3 — —"  # fmt: skip


def test_a_json_in_the_wrong_profile_file_is_refused(tmp_path):
    doc = json.loads((BENCH / "bench-1m.json").read_text())
    doc["server"]["durable"] = True  # a durable recording saved as the fast profile's file
    (tmp_path / "bench-1m.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="durable server"):
        readme.load(tmp_path)
