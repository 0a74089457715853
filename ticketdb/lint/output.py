"""Findings as text (compiler style), JSON, GitHub Actions workflow commands, or SARIF 2.1.0
for code-scanning UIs."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePath

from ticketdb import __version__
from ticketdb.lint.findings import Finding
from ticketdb.lint.registry import load_rules

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def as_text(findings: list[Finding]) -> str:
    return "".join(f.text() + "\n" for f in findings)


def as_json(findings: list[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2) + "\n"


_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def as_github(findings: list[Finding]) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the pull
    request's diff (``::error file=…,line=…,col=…,title=…::message``)."""
    rules = load_rules()
    out = []
    for f in findings:
        name = rules[f.code].name if f.code in rules else ""
        title = f"{f.code} {name}".strip()
        props = (
            f"file={_gh_property(f.path)},line={f.line},col={f.column},title={_gh_property(title)}"
        )
        out.append(f"::{_GITHUB_LEVEL[f.severity]} {props}::{_gh_data(f.message)}\n")
    return "".join(out)


def rule_markdown(doc: str) -> str:
    """A rule docstring (reST: ``code``, ``.. code-block:: sql`` + indented block) as markdown."""
    lines = (doc or "").strip().splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith(".. code-block::"):
            lang = line.split("::", 1)[1].strip()
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    " * 2)):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            while block and not block[0].strip():
                block.pop(0)
            indent = min((len(b) - len(b.lstrip()) for b in block if b.strip()), default=0)
            out += [f"```{lang}", *(b[indent:] for b in block), "```", ""]
            continue
        text = line[4:] if line.startswith("    ") else line
        out.append(re.sub(r"``([^`]+)``", r"`\1`", text))
        i += 1
    return "\n".join(out).strip() + "\n"


def rule_text(doc: str) -> str:
    """The same as plain text: no fences, no markup."""
    md = rule_markdown(doc)
    md = re.sub(r"^```\w*$\n?", "", md, flags=re.M)
    return md.replace("**", "").replace("`", "")


def as_sarif(
    findings: list[Finding], levels: dict[str, str] | None = None, root: Path | None = None
) -> str:
    """SARIF 2.1.0. Artifact URIs are relative to ``root`` (the repository/project root, named
    by ``originalUriBaseIds``), so code-scanning UIs find the files whatever the working
    directory was; rule help is plain text and markdown (there is no absolute help URL)."""
    rules = load_rules()
    levels = levels or {}
    codes = list(rules)
    root = (root or Path.cwd()).resolve()
    descriptors = []
    for code, cls in rules.items():
        level = levels.get(code, cls.severity)
        doc = cls.__doc__ or ""
        descriptors.append(
            {
                "id": code,
                "name": cls.name,
                "shortDescription": {"text": rule_text(cls.description())},
                "fullDescription": {"text": rule_text(doc)},
                "help": {"text": rule_text(doc), "markdown": rule_markdown(doc)},
                "defaultConfiguration": {
                    "level": _SARIF_LEVEL.get(level, "none"),
                    "enabled": level != "off",
                },
            }
        )
    results = []
    for f in findings:
        absolute = Path(f.path) if PurePath(f.path).is_absolute() else Path.cwd() / f.path
        try:
            rel = absolute.resolve().relative_to(root)
            artifact = {"uri": rel.as_posix(), "uriBaseId": "%SRCROOT%"}
        except ValueError:  # outside the root: an absolute file URI
            artifact = {"uri": absolute.resolve().as_uri()}
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": codes.index(f.code) if f.code in codes else -1,
                "level": _SARIF_LEVEL[f.severity],
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": artifact,
                            "region": {"startLine": f.line, "startColumn": f.column},
                        }
                    }
                ],
            }
        )
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ticketdb-lint",
                        "version": __version__,
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def render(
    findings: list[Finding],
    fmt: str,
    levels: dict[str, str] | None = None,
    root: Path | None = None,
) -> str:
    if fmt == "json":
        return as_json(findings)
    if fmt == "github":
        return as_github(findings)
    if fmt == "sarif":
        return as_sarif(findings, levels, root)
    return as_text(findings)
