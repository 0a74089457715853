"""What the lint schema model holds for one table: columns (type, generation, NOT NULL,
character set), indexes (with key prefix lengths), foreign keys, partitioning. Built and
changed by ticketdb.lint.schema as statements are applied; read by the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from ticketdb.lint.parse.model import Partitioning


@dataclass
class Column:
    name: str
    dtype: exp.DataType | None = None
    generated: exp.Expression | None = None
    offset: int = 0
    not_null: bool = False
    charset: str | None = None  # CHARACTER SET written on the column (else the table's)


def column_from_def(cd: exp.ColumnDef, offset: int) -> Column:
    """A column as a CREATE/ALTER wrote it (type, generation, NOT NULL, CHARACTER SET)."""
    col = Column(cd.name, cd.args.get("kind"), offset=offset)
    for c in cd.constraints:
        kind = c.kind
        if isinstance(kind, exp.ComputedColumnConstraint):
            col.generated = kind.this
        elif isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get("allow_null"):
            col.not_null = True
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            col.not_null = True
        elif isinstance(kind, exp.CharacterSetColumnConstraint):
            col.charset = kind.this.name.lower()
    return col


@dataclass
class Index:
    name: str | None
    columns: list[str]  # lower-case; "(expr)" for a functional key part
    kind: str  # PRIMARY | UNIQUE | INDEX | FULLTEXT | SPATIAL
    offset: int = 0
    path: str = ""
    prefixes: dict[str, int] = field(default_factory=dict)  # column -> key prefix length

    def covers(self, other: Index) -> bool:
        """Does this index serve every lookup ``other`` serves (``other`` a left prefix of it,
        with prefix lengths no shorter)?"""
        if len(self.columns) < len(other.columns):
            return False
        for mine, theirs in zip(self.columns, other.columns, strict=False):
            if mine != theirs:
                return False
            mine_len, their_len = self.prefixes.get(mine), other.prefixes.get(theirs)
            if mine_len is not None and (their_len is None or their_len > mine_len):
                return False
        return True

    @property
    def unique(self) -> bool:
        return self.kind in ("PRIMARY", "UNIQUE")


@dataclass
class ForeignKey:
    name: str | None
    columns: list[str]
    ref_table: str
    ref_columns: list[str]
    offset: int = 0
    path: str = ""
    ref_db: str = ""  # REFERENCES otherdb.t: not this schema's table


@dataclass
class Table:
    name: str
    columns: dict[str, Column] = field(default_factory=dict)  # lower name -> column, in order
    indexes: list[Index] = field(default_factory=list)
    fks: list[ForeignKey] = field(default_factory=list)
    partitioning: Partitioning | None = None
    view: bool = False
    opaque: bool = False  # columns unknown (CREATE TABLE … AS SELECT *, view over unknowns)
    temporary: bool = False
    path: str = ""
    offset: int = 0

    def has_column(self, name: str) -> bool:
        return self.opaque or name.lower() in self.columns

    @property
    def primary(self) -> Index | None:
        return next((i for i in self.indexes if i.kind == "PRIMARY"), None)
