"""Pure text normalisation of SHOW CREATE output: what differs between two servers, or between
a fresh create and an old one, without being schema (DEFINER, counters, start times, layout).

No connection here: every function takes text and returns text, so it is tested without a server.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ticketdb.db import quote_ident
from ticketdb.sqlscript import SplitError, tokenize

_IDENT = r"(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\"[^\"]*\"|[\w.%$-]+)"
_DEFINER = re.compile(
    rf"^(\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?)"
    rf"DEFINER\s*=\s*{_IDENT}(?:\s*@\s*{_IDENT})?\s+",
    re.IGNORECASE,
)
_IF_NOT_EXISTS = re.compile(
    r"^(\s*CREATE\b[^(;]*?\b(?:TRIGGER|PROCEDURE|FUNCTION|EVENT|VIEW))\s+IF\s+NOT\s+EXISTS\b",
    re.IGNORECASE,
)
_VERSIONED = re.compile(r"/\*!\d{5,6}\s?(.*?)\s?\*/", re.DOTALL)
_AUTO_INC = re.compile(r"\s+AUTO_INCREMENT=\d+", re.IGNORECASE)
_INT_WIDTH = re.compile(r"\b(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)", re.IGNORECASE)
_CURRENT_TS = re.compile(r"\b(current_timestamp|now|localtimestamp)\(\)", re.IGNORECASE)
_EVENT_STARTS = re.compile(r"\s+STARTS\s+'[^' ]*(?: ([^']*))?'", re.IGNORECASE)
_EVENT_AT = re.compile(r"(ON\s+SCHEDULE\s+AT\s+)'[^']*'", re.IGNORECASE)
_WORDLIKE = re.compile(r"[A-Za-z0-9_$]+")


def strip_definer(text: str) -> str:
    """``CREATE DEFINER=`u`@`h` PROCEDURE`` → ``CREATE PROCEDURE``: the creator is not schema.

    A trigger keeps the ``IF NOT EXISTS`` it was created with; that is not schema either.
    """
    return _IF_NOT_EXISTS.sub(r"\1", _DEFINER.sub(r"\1", text, count=1), count=1)


def strip_database(text: str, database: str, *, unquoted: bool = False) -> str:
    """Drop ```db`.`` qualifiers (the server writes them; the two databases differ in name)."""
    text = text.replace(quote_ident(database) + ".", "")
    if unquoted:
        text = re.sub(rf"(?<![\w`.]){re.escape(database)}\.", "", text)
    return text


def signature(text: str) -> tuple[str, ...]:
    """Tokens without whitespace and comments; words and `quoted` identifiers case-folded.

    Two definitions with equal signatures behave the same, however they are laid out.
    """
    try:
        tokens = tokenize(text)
    except SplitError:
        return tuple(text.split())
    out: list[str] = []
    for t in tokens:
        if t.kind == "ws":
            continue
        if t.kind == "comment":
            m = _VERSIONED.fullmatch(t.text)
            if m:
                out.extend(signature(m.group(1)))
            continue
        if t.kind == "quoted":
            inner = t.text[1:-1].replace("``", "`")
            out.append(inner.upper() if _WORDLIKE.fullmatch(inner) else t.text)
        elif t.kind == "word":
            out.append(t.upper)
        else:
            out.append(t.text)
    return tuple(out)


def _clean_lines(text: str) -> str:
    lines = [ln.rstrip().expandtabs(4) for ln in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def normalise_routine(text: str, database: str, *, unquoted_db: bool = False) -> str:
    """Procedures, functions, triggers, views: the stored text minus DEFINER and db qualifiers."""
    return _clean_lines(strip_database(strip_definer(text), database, unquoted=unquoted_db))


def normalise_event(
    text: str, database: str, *, unquoted_db: bool = False, time_of_day: bool = False
) -> str:
    """Also drop STARTS / AT timestamps: they are evaluated when the event is created.

    With ``time_of_day`` (the repo's STARTS is built from CURRENT_DATE, e.g. "daily at 01:00")
    the time of day is kept: a hand re-create that moves the run to a busy hour is drift.
    """
    text = normalise_routine(text, database, unquoted_db=unquoted_db)
    if time_of_day:
        text = _EVENT_STARTS.sub(lambda m: f" STARTS '<day> {m.group(1) or ''}'", text)
    else:
        text = _EVENT_STARTS.sub("", text)
    return _layout_event(_EVENT_AT.sub(r"\1<creation time>", text))


def _layout_event(text: str) -> str:
    """One clause per line before DO, so a diff shows which clause changed (SHOW CREATE EVENT
    prints the whole header on one line)."""
    try:
        tokens = tokenize(text)
    except SplitError:
        return text
    words = [t for t in tokens if t.kind == "word"]
    cuts: list[int] = []
    for i, t in enumerate(words):
        nxt = words[i + 1].upper if i + 1 < len(words) else ""
        if t.upper == "DO":
            cuts.append(t.offset)
            break
        if (t.upper == "ON" and nxt in ("SCHEDULE", "COMPLETION")) or t.upper in (
            "ENABLE", "DISABLE", "COMMENT",
        ):  # fmt: skip
            cuts.append(t.offset)
    if not cuts or "\n" in text[: cuts[-1]]:
        return text
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(text[start:cut].rstrip())
        start = cut
    pieces.append(text[start:])
    return "\n    ".join(pieces)


def split_partitioning(text: str) -> tuple[str, str]:
    """SHOW CREATE TABLE → (the table without partitioning, ``PARTITION BY …`` unwrapped from
    its ``/*!50100 … */`` or "")."""
    m = re.search(r"\n\s*(?:/\*!\d+\s*)?PARTITION\s+BY\b", text, re.IGNORECASE)
    if not m:
        return text, ""
    return text[: m.start()], _VERSIONED.sub(r"\1", text[m.start() :].strip())


def _scheme(partitioning: str) -> str:
    """``PARTITION BY RANGE (expr)`` (plus SUBPARTITION BY / PARTITIONS n) without the list."""
    depth = 0
    for i, ch in enumerate(partitioning):
        if ch == "(":
            if depth == 0 and re.match(r"\(\s*PARTITION\b", partitioning[i:], re.IGNORECASE):
                return " ".join(partitioning[:i].split())
            depth += 1
        elif ch == ")":
            depth -= 1
    return " ".join(partitioning.split())


def _drop_default_charset(column: str, options: str) -> str:
    """A column's ``CHARACTER SET x COLLATE y`` equal to the table default says nothing new
    (MySQL 8 prints it, MariaDB does not)."""
    cs = re.search(r"\bCHARSET=(\w+)", options)
    coll = re.search(r"\bCOLLATE=(\w+)", options)
    if cs:
        column = re.sub(rf" (?:CHARACTER SET|CHARSET) {cs.group(1)}\b", "", column)
    if coll:
        column = re.sub(rf" COLLATE {coll.group(1)}\b", "", column)
    return column


def normalise_table(
    text: str, partitions: Sequence[tuple[str, str, str]] = ()
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """SHOW CREATE TABLE → comparable text, plus the RANGE partitions left out of it.

    Columns keep their order (it is visible to ``SELECT *``); the primary key comes first and the
    other index and constraint lines are sorted. ``partitions`` are ``(name, method,
    description)`` rows from information_schema.partitions.
    """
    head, partitioning = split_partitioning(text)
    head = _VERSIONED.sub(r"\1", head)
    lines = head.split("\n")
    close = max((i for i, ln in enumerate(lines) if ln.startswith(")")), default=len(lines))
    elements: list[str] = []
    for ln in lines[1:close]:
        if ln.startswith("  ") and not ln.startswith("   ") or not elements:
            elements.append(ln.strip().rstrip(","))
        else:
            elements[-1] += "\n" + ln.rstrip().rstrip(",")
    elements = [_CURRENT_TS.sub(r"\1", _INT_WIDTH.sub(r"\1", e)).replace("utf8mb3", "utf8")
                for e in elements]  # fmt: skip
    options = _AUTO_INC.sub("", "\n".join(lines[close:])).replace("utf8mb3", "utf8")
    elements = [_drop_default_charset(e, options) for e in elements]
    columns = [e for e in elements if e.startswith("`")]
    primary = [e for e in elements if e.upper().startswith("PRIMARY KEY")]
    others = sorted(e for e in elements if e not in columns and e not in primary)
    out = [lines[0], *("  " + e for e in columns + primary + others), options]
    ranges: list[tuple[str, str]] = []
    if partitioning:
        out.append(_scheme(partitioning))
        seen: set[str] = set()
        for name, method, desc in partitions:
            if name in seen:
                continue  # one row per subpartition
            seen.add(name)
            if method.upper().startswith("RANGE"):
                if str(desc).upper() == "MAXVALUE":
                    out.append(f"  PARTITION {quote_ident(name)} VALUES LESS THAN MAXVALUE")
                else:
                    ranges.append((name, str(desc)))
            elif method.upper().startswith("LIST"):
                out.append(f"  PARTITION {quote_ident(name)} VALUES IN ({desc})")
            else:
                out.append(f"  PARTITION {quote_ident(name)}")
        if ranges:
            out.insert(
                len(out) - (1 if out[-1].endswith("MAXVALUE") else 0),
                "  -- month partitions roll with maintenance: not compared",
            )
    return "\n".join(out), tuple(ranges)


_NOW_WORDS = {
    "CURRENT_TIMESTAMP", "NOW", "SYSDATE", "LOCALTIME", "LOCALTIMESTAMP", "UTC_TIMESTAMP",
    "CURTIME", "CURRENT_TIME", "UNIX_TIMESTAMP",
}  # fmt: skip
_AFTER_STARTS = {"ENDS", "ON", "ENABLE", "DISABLE", "COMMENT", "DO"}


def starts_at_fixed_time(create_event: str) -> bool:
    """Does this CREATE EVENT's STARTS give a time of day that does not depend on "now"?

    ``STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 1 HOUR`` does (01:00); no STARTS, or
    ``STARTS CURRENT_TIMESTAMP + INTERVAL 1 HOUR``, does not.
    """
    try:
        words = [t.upper for t in tokenize(create_event) if t.kind == "word"]
    except SplitError:
        return False
    if "STARTS" not in words:
        return False
    clause = []
    for w in words[words.index("STARTS") + 1 :]:
        if w in _AFTER_STARTS:
            break
        clause.append(w)
    return bool(clause) and not _NOW_WORDS.intersection(clause)
