"""Generate the rule reference of docs/lint.md from the registry (``python -m ticketdb.lint.docs``
rewrites it; a test fails when the file is stale)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from ticketdb import PROJECT_ROOT
from ticketdb.lint.registry import load_rules

BEGIN = "<!-- BEGIN GENERATED RULES (python -m ticketdb.lint.docs) -->"
END = "<!-- END GENERATED RULES -->"
DOC = PROJECT_ROOT / "docs" / "lint.md"


def _rst_to_md(doc: str) -> str:
    """The rule docstrings use ``.. code-block:: sql`` blocks; render them as fenced code."""
    out: list[str] = []
    lines = inspect.cleandoc(doc).splitlines()[1:]
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == ".. code-block:: sql":
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            while block and not block[0].strip():
                block.pop(0)
            out += ["```sql", *block, "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out).strip()


def rules_markdown() -> str:
    rules = load_rules()
    parts = [
        "| Code | Name | Default | Description |",
        "|------|------|---------|-------------|",
    ]
    for code, cls in rules.items():
        parts.append(
            f"| [{code}](#{code.lower()}) | `{cls.name}` | {cls.severity} | {cls.description()} |"
        )
    parts.append("")
    for code, cls in rules.items():
        parts += [f"### {code}", "", f"**{cls.name}** ({cls.severity}): {cls.description()}", ""]
        parts += [_rst_to_md(cls.__doc__ or ""), ""]
    return "\n".join(parts).rstrip() + "\n"


def render(current: str) -> str:
    """``current`` with the generated section replaced (appended when markers are missing)."""
    block = f"{BEGIN}\n\n{rules_markdown()}\n{END}"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return head + block + tail
    return current.rstrip() + "\n\n" + block + "\n"


def main(path: Path = DOC) -> int:
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    new = render(current)
    if new != current:
        path.write_text(new, encoding="utf-8")
        print(f"updated {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
