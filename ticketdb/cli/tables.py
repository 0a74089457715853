"""Tables that fit the terminal without splitting a value (issue 20: in 80 columns a report
showed ``processin``/``g`` and ``2026-12-0``/``5 06:33``).

A value is never folded: each column is at least as wide as its longest value and its longest
header word (headers wrap between words). The boxed table is tried first, then a borderless
one; when neither fits, each row is printed as a list of ``column: value`` lines.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text


def _table(
    title: str | None,
    caption: str | None,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: set[int],
    compact: bool,
    widths: Sequence[int],
) -> Table:
    # compact: no borders, one space between columns, the header underlined
    kw = {"box": None, "pad_edge": False, "padding": (0, 1), "collapse_padding": True,
          "header_style": "bold underline"} if compact else {}  # fmt: skip
    table = Table(title=title, caption=caption, **kw)  # type: ignore[arg-type]
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i in right else "left", width=widths[i])
    for r in rows:
        table.add_row(*r)
    return table


def _overhead(n: int, compact: bool) -> int:
    """Borders and padding of an ``n``-column table: rendered once with one-character
    columns (rich's own arithmetic, not a copy of it)."""
    probe = _table(None, None, ["x"] * n, [["x"] * n], set(), compact, [1] * n)
    out = Console(width=10 * n + 10, file=io.StringIO(), color_system=None)
    with out.capture() as captured:
        out.print(probe)
    return max(len(line) for line in captured.get().splitlines()) - n


def fitted(
    console: Console,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    caption: str | None = None,
    right: set[int] | None = None,
) -> RenderableType:
    """The first layout that fits ``console.width`` with every value whole. Cells may hold
    rich markup (``[yellow]skipped[/]``)."""
    right = right or set()
    n = len(headers)
    cells = [max([Text.from_markup(r[i]).cell_len for r in rows] or [0]) for i in range(n)]
    whole = [max(c, len(h)) for c, h in zip(cells, headers, strict=True)]
    words = [max([c, *(len(w) for w in h.split())]) for c, h in zip(cells, headers, strict=True)]
    for compact in (False, True):
        for widths in (whole, words):  # headers on one line, else wrapped between words
            if sum(widths) + _overhead(len(headers), compact) <= console.width:
                return _table(title, caption, headers, rows, right, compact, widths)
    key = max(len(h) for h in headers) if headers else 0
    parts: list[RenderableType] = [Text(title, style="bold")] if title else []
    for n, r in enumerate(rows):
        if n or title:
            parts.append(Text(""))
        for header, value in zip(headers, r, strict=True):
            if not value:
                continue  # an empty cell is a blank in a table, noise in a list
            line = Text(f"{header:>{key}}: ", style="dim")
            line.append_text(Text.from_markup(value))
            parts.append(line)
    if caption:
        parts += [Text(""), Text(caption, style="dim")]
    return Group(*parts)
