"""Findings as text (compiler style), JSON, or SARIF 2.1.0 for code-scanning UIs."""

from __future__ import annotations

import json
from pathlib import Path, PurePath

from ticketdb import __version__
from ticketdb.lint.findings import Finding
from ticketdb.lint.registry import load_rules

FORMATS = ("text", "json", "sarif")
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def as_text(findings: list[Finding]) -> str:
    return "".join(f.text() + "\n" for f in findings)


def as_json(findings: list[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2) + "\n"


def as_sarif(findings: list[Finding], levels: dict[str, str] | None = None) -> str:
    rules = load_rules()
    levels = levels or {}
    codes = list(rules)
    descriptors = []
    for code, cls in rules.items():
        level = levels.get(code, cls.severity)
        descriptors.append(
            {
                "id": code,
                "name": cls.name,
                "shortDescription": {"text": cls.description()},
                "fullDescription": {"text": (cls.__doc__ or "").strip()},
                "defaultConfiguration": {
                    "level": _SARIF_LEVEL.get(level, "none"),
                    "enabled": level != "off",
                },
                "helpUri": f"docs/lint.md#{code.lower()}",
            }
        )
    results = []
    for f in findings:
        path = PurePath(f.path)
        artifact = (
            {"uri": Path(f.path).as_uri()}
            if path.is_absolute()
            else {"uri": path.as_posix(), "uriBaseId": "%SRCROOT%"}
        )
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
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def render(findings: list[Finding], fmt: str, levels: dict[str, str] | None = None) -> str:
    if fmt == "json":
        return as_json(findings)
    if fmt == "sarif":
        return as_sarif(findings, levels)
    return as_text(findings)
