"""Read a SQL file (or a yoyo Python migration) into parsed statements.

Split with :mod:`ticketdb.sqlscript` (the same splitter ``migrate`` uses) after mysqldump's
executable comments are opened up in place; each statement then goes to
:func:`ticketdb.lint.parse.statement.parse_statement`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ticketdb.lint.parse.model import SourceFile
from ticketdb.lint.parse.statement import parse_statement
from ticketdb.lint.parse.unit import offset_at
from ticketdb.sqlscript import SplitError, Statement, split, tokenize

_VERSION_COMMENT = re.compile(r"/\*M?!\d*")


def role_of(path: Path) -> str:
    if path.name.endswith(".rollback.sql"):
        return "rollback"
    if path.parent.name == "migrations":
        return "migration"
    if path.parent.name in ("procedures", "triggers", "events"):
        return "object"
    return "script"


def load(path: Path, display: str, text: str | None = None) -> SourceFile:
    """Read and parse one file; never raises for bad SQL (errors are kept with offsets)."""
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    src = SourceFile(path, display, text, role_of(path))
    if path.suffix == ".py":
        _load_python(src)
        return src
    _load_sql(src, text, 0)
    return src


def _load_sql(src: SourceFile, text: str, base: int) -> None:
    """Parse ``text`` (which starts at file offset ``base``) into ``src.statements``."""
    try:
        expanded = expand_version_comments(text)
        statements = split(expanded)
    except SplitError as exc:
        src.errors.append((base + offset_at(text, exc.line, exc.col), str(exc)))
        return
    for st in statements:
        if base:
            st = Statement(st.text, st.offset + base, 0, 0, st.delimiter, st.terminated)
        src.statements.append(parse_statement(st))


def expand_version_comments(text: str) -> str:
    """Turn mysqldump's executable comments into plain text, keeping every offset: whole
    statements (``/*!50003 CREATE*/ … TRIGGER …*/``, views, SET lines) and, inside a statement,
    pre-8.0 clauses such as ``/*!50100 PARTITION BY …*/``. A MySQL 8 comment inside a statement
    (``/*!80003 SRID 0 */``) stays a comment (the portability rule reports it)."""
    if "/*!" not in text and "/*M!" not in text:
        return text
    chars = list(text)
    at_start, expanding = True, False
    for tok in tokenize(text, directives=True):
        if tok.kind == "ws":
            continue
        if tok.kind == "comment":
            m = _VERSION_COMMENT.match(tok.text)
            digits = m.group(0).lstrip("/*M!") if m else ""
            old = not digits or int(digits) < 80000
            if (
                m
                and (at_start or expanding or old)
                and not tok.text[m.end() :].lstrip().startswith("\\")
            ):
                for k in range(tok.offset, tok.offset + m.end()):
                    chars[k] = " "
                if tok.text.endswith("*/"):
                    end = tok.offset + len(tok.text)
                    chars[end - 2] = chars[end - 1] = " "
                expanding = expanding or at_start
            continue
        if tok.kind in ("delim", "directive"):
            at_start, expanding = True, False
            continue
        at_start = False
    return "".join(chars)


def _load_python(src: SourceFile) -> None:
    """A yoyo Python migration: lint the SQL strings of its ``step(apply, rollback)`` calls and
    remember whether each step has a rollback."""
    try:
        tree = ast.parse(src.text)
    except SyntaxError as exc:
        src.errors.append((src.offset_at(exc.lineno or 1, exc.offset or 1), f"Python: {exc.msg}"))
        return
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "step"):
            continue
        offset = src.offset_at(node.lineno, node.col_offset + 1)
        rollback = len(node.args) >= 2 or any(k.arg == "rollback" for k in node.keywords)
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            rollback = bool(str(node.args[1].value).strip())
        src.py_steps.append((offset, rollback))
        apply_arg = node.args[0] if node.args else None
        if isinstance(apply_arg, ast.Constant) and isinstance(apply_arg.value, str):
            start = src.offset_at(apply_arg.lineno, apply_arg.col_offset + 1)
            m = re.match(r"[rRbBuU]*('''|\"\"\"|'|\")", src.text[start:])
            content_at = start + (m.end() if m else 0)
            sql = apply_arg.value
            if src.text[content_at : content_at + len(sql)] != sql:
                content_at = start  # escapes moved things: report at the string's start
            _load_sql(src, sql, content_at)
