"""Commands of the mysql/mariadb command-line client that are not SQL.

A script written for ``mysql < file`` may hold ``source file`` / ``\\. file``, ``\\G`` (end a
statement, print vertically), other backslash commands, a UTF-8 byte-order mark and CRLF line
ends. The server never sees them; the linter must not read them as SQL either, nor let one
swallow the next statement. They are blanked in place (offsets do not move, ``\\G`` becomes the
delimiter) and each is reported as a note, so nothing is skipped silently.
"""

from __future__ import annotations

import re

from ticketdb.sqlscript import tokenize

BOM = "\ufeff"
_SOURCE_WORDS = {"SOURCE"}
#: cheap pre-check before lexing the file: a backslash command or a line starting with source
_MAYBE = re.compile(
    r"\\[A-Za-z.]|^[ \t]*source[ \t]|^[ \t]*use[ \t]+[^;\s]+[ \t\r]*$", re.IGNORECASE | re.MULTILINE
)
_USE_LINE = re.compile(r"use[ \t]+(`[^`]+`|[A-Za-z0-9_$]+)[ \t\r]*$", re.IGNORECASE)


def strip_client_commands(text: str) -> tuple[str, list[tuple[int, str]], list[str]]:
    """Return ``text`` with client commands blanked, ``(offset, note)`` for each one, and the
    databases of ``use db`` lines written without a delimiter (the client's own command)."""
    notes: list[tuple[int, str]] = []
    uses: list[str] = []
    if text.startswith(BOM):
        text = " " + text[1:]
    if not _MAYBE.search(text):
        return text, notes, uses
    chars: list[str] | None = None
    at_start = True
    delimiter = ";"
    for tok in tokenize(text, directives=True):
        if tok.kind in ("ws", "comment"):
            continue
        if tok.kind == "directive":
            delimiter = tok.text.split()[1] if len(tok.text.split()) > 1 else delimiter
            at_start = True
            continue
        if tok.kind == "delim":
            at_start = True
            continue
        if tok.kind == "word" and tok.upper in _SOURCE_WORDS and at_start:
            chars = chars if chars is not None else list(text)
            end = _line_end(text, tok.offset)
            command = text[tok.offset : end].strip()
            _blank(chars, tok.offset, end)
            notes.append((tok.offset, f"client command `{command}` skipped: the sourced file is "
                                      "not read here; lint it too"))  # fmt: skip
            continue
        if tok.kind == "word" and tok.upper == "USE" and at_start:
            end = _line_end(text, tok.offset)
            m = _USE_LINE.match(text, tok.offset, end)
            if m is not None and not m.group(0).rstrip().endswith(delimiter):
                chars = chars if chars is not None else list(text)
                _blank(chars, tok.offset, end)
                uses.append(m.group(1).strip("`"))
                notes.append((tok.offset, f"client command `{m.group(0).strip()}` (no delimiter) "
                                          f"read as USE {m.group(1)}"))  # fmt: skip
                continue
        if tok.kind == "punct" and tok.text == "\\" and tok.offset + 1 < len(text):
            chars = chars if chars is not None else list(text)
            letter = text[tok.offset + 1]
            if letter in "Gg" and len(delimiter) <= 2:
                chars[tok.offset : tok.offset + 2] = list(delimiter.ljust(2))
                at_start = True
                continue
            if letter == ".":
                end = _line_end(text, tok.offset)
                command = text[tok.offset : end].strip()
                _blank(chars, tok.offset, end)
                notes.append((tok.offset, f"client command `{command}` skipped: the sourced "
                                          "file is not read here; lint it too"))  # fmt: skip
                continue
            _blank(chars, tok.offset, tok.offset + 2)
            notes.append((tok.offset, f"client command `\\{letter}` skipped"))
            continue
        at_start = False
    return ("".join(chars) if chars is not None else text), notes, uses


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def _blank(chars: list[str], start: int, end: int) -> None:
    for k in range(start, min(end, len(chars))):
        if chars[k] not in "\r\n":
            chars[k] = " "
