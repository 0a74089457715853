"""Is a column type change narrowing (can lose data)? Used for destructive-change rules."""

from __future__ import annotations

from sqlglot import exp

_INT_RANK = {"TINYINT": 1, "SMALLINT": 2, "MEDIUMINT": 3, "INT": 4, "BIGINT": 5}
_TEXT_RANK = {"TINYTEXT": 1, "TEXT": 2, "MEDIUMTEXT": 3, "LONGTEXT": 4}
_BLOB_RANK = {"TINYBLOB": 1, "BLOB": 2, "MEDIUMBLOB": 3, "LONGBLOB": 4}
_STRINGS = {"CHAR", "VARCHAR", "BINARY", "VARBINARY"}


def _base(dt: exp.DataType) -> tuple[str, bool]:
    name = dt.this.name if hasattr(dt.this, "name") else str(dt.this)
    name = name.upper()
    unsigned = name.startswith("U") and name[1:] in _INT_RANK
    if unsigned:
        name = name[1:]
    if name == "UDECIMAL":
        name, unsigned = "DECIMAL", True
    return name, unsigned


def _params(dt: exp.DataType) -> list[int]:
    out = []
    for p in dt.expressions:
        node = p.this if isinstance(p, exp.DataTypeParam) else p
        try:
            out.append(int(node.name))
        except (ValueError, AttributeError):
            pass
    return out


def enum_values(dt: exp.DataType) -> list[str] | None:
    name, _ = _base(dt)
    if name not in ("ENUM", "SET"):
        return None
    return [e.name for e in dt.expressions]


def narrowing(old: exp.DataType, new: exp.DataType) -> str | None:
    """Why changing ``old`` to ``new`` may lose data, or None."""
    o, o_unsigned = _base(old)
    n, n_unsigned = _base(new)
    ov, nv = enum_values(old), enum_values(new)
    if ov is not None and nv is not None:
        removed = [v for v in ov if v not in nv]
        if removed:
            return f"{o} value(s) {', '.join(repr(v) for v in removed)} removed"
        return None
    if ov is not None and n in ("CHAR", "VARCHAR") | _TEXT_RANK.keys():
        width = _params(new)
        longest = max((len(v) for v in ov), default=0)
        if n in _TEXT_RANK or (width and width[0] >= longest):
            return None  # every value still fits
        return f"{o} values longer than {new.sql('mysql')} would be cut"
    if o in _INT_RANK and n in _INT_RANK:
        if _INT_RANK[n] < _INT_RANK[o] or o_unsigned != n_unsigned:
            return f"integer narrowed from {old.sql('mysql')} to {new.sql('mysql')}"
        return None
    for ranks in (_TEXT_RANK, _BLOB_RANK):
        if o in ranks and n in ranks:
            return f"{o} narrowed to {n}" if ranks[n] < ranks[o] else None
    if o in _STRINGS and n in _STRINGS | set(_TEXT_RANK) | set(_BLOB_RANK):
        op, np_ = _params(old), _params(new)
        if n in _STRINGS and op and np_ and np_[0] < op[0]:
            return f"length shortened from {old.sql('mysql')} to {new.sql('mysql')}"
        return None
    if o in ("DECIMAL", "NUMERIC") and n in ("DECIMAL", "NUMERIC"):
        op, np_ = (
            _params(old) + [10, 0][len(_params(old)) :],
            _params(new) + [10, 0][len(_params(new)) :],
        )
        if np_[0] - np_[1] < op[0] - op[1] or np_[1] < op[1]:
            return f"DECIMAL narrowed from {old.sql('mysql')} to {new.sql('mysql')}"
        return None
    if o != n and not (o in _STRINGS and n in _TEXT_RANK):
        return f"type changed from {old.sql('mysql')} to {new.sql('mysql')}"
    return None


_BYTES_PER_CHAR = {"latin1": 1, "ascii": 1, "binary": 1, "utf8": 3, "utf8mb3": 3, "utf8mb4": 4}
_BINARY_STRINGS = {"BINARY", "VARBINARY"}


def rebuild_reason(
    old: exp.DataType, new: exp.DataType, old_cs: str | None = None, new_cs: str | None = None
) -> str | None:
    """Why changing ``old`` to ``new`` rewrites every row (InnoDB cannot do it in place), or
    None. ENUM/SET value changes are judged elsewhere."""
    o, o_unsigned = _base(old)
    n, n_unsigned = _base(new)
    if o in ("ENUM", "SET") and n == o:
        return None
    if o != n:
        return f"{o} -> {n}"
    if o in _INT_RANK and o_unsigned != n_unsigned:
        sign = {True: "UNSIGNED", False: "SIGNED"}
        return f"{o} {sign[o_unsigned]} -> {sign[n_unsigned]}"
    op, np_ = _params(old), _params(new)
    if o in ("VARCHAR", "VARBINARY") and op and np_ and np_[0] > op[0]:
        bpc = 1 if o == "VARBINARY" else _BYTES_PER_CHAR.get(new_cs or old_cs or "utf8mb4", 4)
        if op[0] * bpc <= 255 < np_[0] * bpc:
            return (
                f"{o}({op[0]}) -> {o}({np_[0]}) crosses the 255-byte boundary "
                f"({bpc} byte(s) per character; MySQL 8 copies, MariaDB 10.11 with "
                "ROW_FORMAT=DYNAMIC extends it in place)"
            )
    if o in ("DECIMAL", "NUMERIC", "CHAR", "BINARY", "FLOAT", "DOUBLE") and op != np_ and np_:
        return f"{o}({', '.join(map(str, op))}) -> {o}({', '.join(map(str, np_))})"
    return None
