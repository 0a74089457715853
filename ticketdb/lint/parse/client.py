"""Commands of the mysql/mariadb command-line client that are not SQL.

A script written for ``mysql < file`` may hold ``source file`` / ``\\. file``, ``\\G`` (end a
statement, print vertically), other backslash commands, a UTF-8 byte-order mark and CRLF line
ends. The server never sees them; the linter must not read them as SQL either, nor let one
swallow the next statement. They are blanked in place (offsets do not move, ``\\G`` becomes the
delimiter). ``source`` is returned with its file name (the engine lints that file at that
point); every other command is reported as a note, so nothing is skipped silently.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ticketdb.sqlscript import tokenize

BOM = "\ufeff"
_SOURCE_WORDS = {"SOURCE"}
#: cheap pre-check before lexing the file: a backslash command, or a line starting with
#: source, or a `use db` line without a delimiter. Three patterns, not one with ^/$ in
#: MULTILINE mode: that one was tried at every character (18 ms for 600 kB, 57 ms for a 3 MB
#: dump); these start from a literal (backslash, newline) the regex engine scans for
_BACKSLASH_COMMAND = re.compile(r"\\[A-Za-z.]")
_LINE_COMMAND = r"[ \t]*(?:source[ \t]|use[ \t]+[^;\s]+[ \t\r]*(?:\n|\Z))"
_FIRST_LINE_COMMAND = re.compile(_LINE_COMMAND, re.IGNORECASE)
_NEXT_LINE_COMMAND = re.compile("\n" + _LINE_COMMAND, re.IGNORECASE)


def _may_hold_commands(text: str) -> bool:
    return bool(
        ("\\" in text and _BACKSLASH_COMMAND.search(text))
        or _FIRST_LINE_COMMAND.match(text)
        or _NEXT_LINE_COMMAND.search(text)
    )


_USE_LINE = re.compile(r"use[ \t]+(`[^`]+`|[A-Za-z0-9_$]+)[ \t\r]*$", re.IGNORECASE)


class ClientCommands(NamedTuple):
    text: str  # the input with client commands blanked (same length)
    notes: list[tuple[int, str]]  # (offset, note) for each command skipped
    uses: list[str]  # databases of `use db` lines written without a delimiter
    sources: list[tuple[int, str]]  # (offset, file name) of `source file` / `\. file`


def source_argument(command: str) -> str:
    """The file name of ``source name`` / ``\\. name``: the rest of the line, without trailing
    blanks or ``;`` (the mysql client drops them too), and without surrounding quotes."""
    arg = command.split(None, 1)[1] if len(command.split(None, 1)) > 1 else ""
    arg = arg.rstrip().rstrip(";").rstrip()
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"`":
        arg = arg[1:-1]
    return arg


def strip_client_commands(text: str) -> ClientCommands:
    """Return ``text`` with client commands blanked, a note for each skipped one, the
    databases of ``use db`` lines written without a delimiter (the client's own command) and
    the files named by ``source`` / ``\\.``."""
    notes: list[tuple[int, str]] = []
    uses: list[str] = []
    sources: list[tuple[int, str]] = []
    if text.startswith(BOM):
        text = " " + text[1:]
    if not _may_hold_commands(text):
        return ClientCommands(text, notes, uses, sources)
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
            sources.append((tok.offset, source_argument(command)))
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
                sources.append((tok.offset, source_argument(command.replace("\\.", "\\. ", 1))))
                continue
            _blank(chars, tok.offset, tok.offset + 2)
            notes.append((tok.offset, f"client command `\\{letter}` skipped"))
            continue
        at_start = False
    return ClientCommands("".join(chars) if chars is not None else text, notes, uses, sources)


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def _blank(chars: list[str], start: int, end: int) -> None:
    for k in range(start, min(end, len(chars))):
        if chars[k] not in "\r\n":
            chars[k] = " "
