"""The last step of a lint run: inline suppressions (``-- ticketdb: allow CODE reason``) and
severities turn raw findings into reported ones; a suppression without a reason, naming an
unknown rule or matching nothing is itself a finding (TDB014)."""

from __future__ import annotations

import re

from ticketdb.lint.findings import Finding
from ticketdb.lint.parse.model import SourceFile

SUPPRESSION_CODE = "TDB014"
_SUPPRESS = re.compile(
    r"(?:--|#)\s*ticketdb:\s*allow\s+(?P<codes>[A-Za-z]+\d+(?:\s*,\s*[A-Za-z]+\d+)*)(?P<reason>[^\n]*)"
)


def finish(
    raw: list[tuple[SourceFile, int, str, str]],
    levels: dict[str, str],
    defaults: dict[str, str],
    files: list[SourceFile],
) -> list[Finding]:
    """Apply inline suppressions and severities; report reasonless, unknown or unused ones."""
    known = set(defaults)
    # (path, line) -> [(code, suppression offset)]; a comment covers its line and the next
    covers: dict[tuple[str, int], list[tuple[str, int]]] = {}
    declared: list[tuple[SourceFile, int, str]] = []
    raw = list(raw)
    for src in files:
        for m in _SUPPRESS.finditer(src.text):
            codes = [c.strip().upper() for c in m.group("codes").split(",")]
            reason = m.group("reason").strip(" \t-:—")
            line, _ = src.position(m.start())
            if not reason:
                raw.append((src, m.start(), SUPPRESSION_CODE,
                            f"suppression of {', '.join(codes)} needs a reason: "
                            f"`-- ticketdb: allow {codes[0]} <why>`"))  # fmt: skip
                continue
            unknown = [c for c in codes if c not in known]
            if unknown:
                raw.append((src, m.start(), SUPPRESSION_CODE,
                            f"suppression names unknown rule {', '.join(unknown)}"))  # fmt: skip
            for code in codes:
                if code in known:
                    declared.append((src, m.start(), code))
                    for ln in (line, line + 1):
                        covers.setdefault((src.display, ln), []).append((code, m.start()))
    used: set[tuple[str, int, str]] = set()
    out: set[Finding] = set()

    def level_of(code: str) -> str:
        return levels.get(code, defaults.get(code, "warning"))

    for src, offset, code, message in raw:
        if level_of(code) == "off":
            continue
        line, col = src.position(offset)
        hits = [at for c, at in covers.get((src.display, line), []) if c == code]
        if hits and code != SUPPRESSION_CODE:
            used.update((src.display, at, code) for at in hits)
            continue
        out.add(Finding(src.display, line, col, code, level_of(code), message))
    if level_of(SUPPRESSION_CODE) != "off":
        for src, at, code in declared:
            if (src.display, at, code) not in used and level_of(code) != "off":
                line, col = src.position(at)
                message = f"suppression of {code} matches no finding; remove it"
                level = level_of(SUPPRESSION_CODE)
                out.add(Finding(src.display, line, col, SUPPRESSION_CODE, level, message))
    return sorted(out)
