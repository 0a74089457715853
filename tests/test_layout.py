"""The package's shape, as a newcomer meets it: README's tree is the real tree, no import cycle
(imports inside functions count: they hide the same two-owner problem), layers point one way."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ticketdb import PROJECT_ROOT

PKG = PROJECT_ROOT / "ticketdb"
#: layer of each top-level part; a module may import only from its own layer or lower ones
LAYERS = {
    "errors": 0, "dsn": 0, "project": 0, "sqlscript": 0,
    "db": 1, "retry": 1, "catalog": 1,  # catalog imports no ticketdb module: db's watchdog reads it
    "server": 2,
    "locks": 3, "leases": 3,
    "partitions": 4, "grants": 4,
    "migrate": 5, "lint": 5, "app": 5,
    "seed": 6, "drift": 6,
    "bench": 7, "doctor": 7,
    "cli": 8,
}  # fmt: skip
MAX_ROOT_MODULES = 12


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every ticketdb module ``name`` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            # ``from pkg import sub`` imports the submodule; ``from pkg import name``, the package
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]  # fmt: skip
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and t.startswith("ticketdb"):
                found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, set(mods)) for name, path in mods.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_cycle_finder_finds_a_hidden_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_counting_imports_inside_functions() -> None:
    cycles = _cycles(_graph())
    assert not cycles, f"import cycles: {cycles}"


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_layers_point_one_way() -> None:
    wrong = []
    for mod, deps in _graph().items():
        top = _top(mod)
        if top not in LAYERS:
            continue
        for dep in deps:
            d = _top(dep)
            if d in LAYERS and LAYERS[d] > LAYERS[top]:
                wrong.append(f"{mod} -> {dep}")
    assert not wrong, "a lower layer imports a higher one: " + ", ".join(sorted(wrong))


def test_every_top_level_part_has_a_layer() -> None:
    tops = {_top(m) for m in _modules()} - {"", "__main__"}
    assert tops <= set(LAYERS), f"give these a layer in LAYERS: {sorted(tops - set(LAYERS))}"


def test_root_holds_at_most_twelve_modules() -> None:
    root = [p.name for p in PKG.glob("*.py") if not p.name.startswith("__")]
    assert len(root) <= MAX_ROOT_MODULES, sorted(root)


def test_only_cli_uses_click_and_rich() -> None:
    users = []
    for mod, path in _modules().items():
        if _top(mod) == "cli":
            continue
        text = path.read_text()
        if re.search(r"^\s*(import|from) (click|rich)\b", text, re.M):
            users.append(mod)
    assert not users


def _readme_layout() -> dict[str, str]:
    """README's tree block: top-level name → the text of its entry (continuation lines too)."""
    text = (PROJECT_ROOT / "README.md").read_text()
    block = text.split("<!-- layout:start -->")[1].split("<!-- layout:end -->")[0]
    entries: dict[str, str] = {}
    current: list[str] = []
    for line in block.splitlines():
        m = re.match(r"^[├└]── (.*)$", line)
        if m:
            current = []
            names = re.findall(r"([\w]+(?:\.py|/))", m.group(1).split("  ")[0])
            for n in names:
                entries[n] = m.group(1)
            current = names
        elif line.startswith(("│", " ")) and current:
            for n in current:
                entries[n] += " " + line.strip("│ ")
    return entries


def test_readme_tree_is_the_package_tree() -> None:
    entries = _readme_layout()
    real = {
        p.name + ("/" if p.is_dir() else "")
        for p in PKG.iterdir()
        if p.name != "__pycache__" and (p.suffix == ".py" or (p / "__init__.py").exists()
                                        or p.is_dir() and any(p.glob("*.py")))
    }
    assert set(entries) == real, (
        f"README lists {sorted(set(entries) - real)} that do not exist and misses "
        f"{sorted(real - set(entries))}"
    )
    missing = []
    for name in real:
        if not name.endswith("/"):
            continue
        for child in (PKG / name).iterdir():
            if child.name in ("__pycache__", "__init__.py") or child.name.startswith("cmd_"):
                continue
            if child.suffix != ".py" and not child.is_dir():
                continue
            shown = child.name + ("/" if child.is_dir() else "")
            if shown not in entries[name]:
                missing.append(f"{name}{shown}")
    assert not missing, f"README's tree misses {sorted(missing)}"


@pytest.mark.parametrize("folder", ["server", "app", "migrate", "seed", "bench", "drift", "lint"])
def test_tests_mirror_the_packages(folder: str) -> None:
    assert (PKG / folder).is_dir()
    assert any((PROJECT_ROOT / "tests" / folder).glob("test_*.py")), f"tests/{folder}/ is empty"


MAX_MODULE_LINES = 450


def test_no_module_is_over_450_lines() -> None:
    """A module that long holds more than one job: split it by responsibility."""
    long = {
        mod: n
        for mod, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split by responsibility (at most {MAX_MODULE_LINES} lines): {long}"


#: A read of the server's catalog (what exists and how it is defined, who may do what, which
#: sessions exist): information_schema, a SHOW of definitions or metadata, the grant and routine
#: tables of the ``mysql`` schema. Counters and settings are not the catalog (SHOW STATUS,
#: SHOW VARIABLES, @@variables, performance_schema): the code that watches them reads them.
_CATALOG_READ = re.compile(
    r"\binformation_schema\b"
    r"|\bmysql\s*\.\s*(?:user|db|proc|event|global_priv|tables_priv|columns_priv|procs_priv"
    r"|roles_mapping)\b"
    r"|^\s*SHOW\s+(?:FULL\s+)?(?:CREATE|TRIGGERS|INDEX|INDEXES|KEYS|COLUMNS|FIELDS|TABLES"
    r"|TABLE\s+STATUS|DATABASES|SCHEMAS|EVENTS|PROCEDURE\s+STATUS|FUNCTION\s+STATUS"
    r"|PROCESSLIST|GRANTS|OPEN\s+TABLES)\b",
    re.I | re.M,
)
CATALOG = PKG / "catalog"


def _catalog_reads(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every string literal (f-string parts too) that reads the catalog.
    Docstrings and the messages of ``raise`` are prose, not statements; comments are not in
    the tree at all."""
    tree = ast.parse(source)
    prose: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            prose.add(id(body[0].value))
        if isinstance(node, ast.Raise):
            prose.update(id(n) for n in ast.walk(node))
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in prose and _CATALOG_READ.search(node.value)
    )  # fmt: skip


def test_catalog_read_finder_finds_reads_and_skips_prose() -> None:
    reads = _catalog_reads(
        '"""Reads information_schema.tables (a docstring)."""\n'
        "def f(conn, kind, name):\n"
        '    """SHOW CREATE TABLE t: a docstring."""\n'
        "    # SELECT 1 FROM information_schema.tables: a comment\n"
        '    cur.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE id = %s")\n'
        '    sql = ("SELECT table_name " "FROM INFORMATION_SCHEMA.TABLES")\n'
        '    cur.execute(f"SHOW CREATE {kind} {name}")\n'
        '    cur.execute("show index from t")\n'
        '    cur.execute("SELECT body FROM mysql.proc")\n'
        "    cur.execute(\"SHOW GLOBAL STATUS LIKE 'wsrep%'\")\n"
        '    cur.execute("SELECT * FROM performance_schema.threads")\n'
        '    raise RuntimeError(f"SHOW CREATE {kind} {name} returned nothing")\n'
    )
    assert [line for line, _ in reads] == [5, 6, 7, 8, 9]


def test_catalog_reads_live_only_in_the_catalog_package() -> None:
    """Every read of the server's catalog goes through ticketdb.catalog (its package doc says
    what counts), so MariaDB/MySQL differences in it are handled once."""
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {text.strip()[:70]}"
        for path in sorted(PKG.rglob("*.py"))
        if CATALOG not in path.parents
        for line, text in _catalog_reads(path.read_text(encoding="utf-8"))
    ]
    assert not found, "read the catalog through ticketdb.catalog:\n" + "\n".join(found)


def test_catalog_imports_no_other_ticketdb_module() -> None:
    """ticketdb.db's watchdog asks the catalog whether a session still exists: a catalog module
    that imported db (or anything above it) would close a cycle."""
    graph = _graph()
    wrong = {
        f"{mod} -> {dep}"
        for mod, deps in graph.items()
        if _top(mod) == "catalog"
        for dep in deps
        if _top(dep) != "catalog"
    }
    assert not wrong, sorted(wrong)
