"""Table definitions derived from the domain dataclasses.

Each aggregate is declared once: its table name, keys, unique constraints (CC-7 idempotency keys) and the few
columns whose type differs from the default for its Python type. Columns carry the entity's field names, so the
mapper can copy state explicitly in both directions (house style §5: separate persistence models + mappers).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from spotopt.adapters.persistence.types import Price, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


@dataclass(frozen=True, slots=True)
class Computed:
    """A stored column computed from the entity (for partial-unique emulation on MySQL)."""

    type: TypeEngine[Any]
    compute: Callable[[Any], Any]


@dataclass(slots=True)
class EntitySpec:
    entity: type[Any]
    table: Table
    primary_key: tuple[str, ...]
    flatten: dict[str, tuple[type[Any], str]]
    field_types: dict[str, Any]
    computed: dict[str, Computed] = field(default_factory=dict)


SPECS: dict[type[Any], EntitySpec] = {}


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """Return (base type, nullable) for ``X | None`` and ``NewType`` annotations."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) != len(typing.get_args(annotation))
        annotation = args[0]
    while hasattr(annotation, "__supertype__"):
        annotation = annotation.__supertype__
    return annotation, nullable


def _column_type(base: Any) -> TypeEngine[Any]:
    origin = typing.get_origin(base) or base
    mapping: dict[Any, Callable[[], TypeEngine[Any]]] = {
        str: lambda: String(255),
        bool: Boolean,
        int: Integer,
        Decimal: Price,
        datetime: UTCDateTime,
        date: Date,
        dict: JSON,
        list: JSON,
        frozenset: JSON,
        tuple: JSON,
    }
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        return String(32)
    return mapping[origin]()


def _default_type(name: str, base: Any) -> TypeEngine[Any]:
    if base is str and name.endswith("_id") and name != "logical_agent_id":
        return String(64)
    return _column_type(base)


def define(
    entity: type[Any],
    name: str,
    primary_key: Sequence[str],
    *,
    uniques: Sequence[Sequence[str]] = (),
    indexes: Sequence[Sequence[str]] = (),
    overrides: dict[str, TypeEngine[Any]] | None = None,
    flatten: dict[str, str] | None = None,
    computed: dict[str, Computed] | None = None,
) -> Table:
    """Declare the table of ``entity``; ``flatten`` maps a value-object field to its column prefix."""
    overrides = overrides or {}
    flatten = flatten or {}
    hints = typing.get_type_hints(entity)
    columns: list[Column[Any]] = []
    flat: dict[str, tuple[type[Any], str]] = {}
    field_types: dict[str, Any] = {}
    for f in dataclasses.fields(entity):
        base, nullable = unwrap(hints[f.name])
        if f.name in flatten:
            prefix = flatten[f.name]
            flat[f.name] = (base, prefix)
            inner_hints = typing.get_type_hints(base)
            for inner in dataclasses.fields(base):
                inner_base, inner_null = unwrap(inner_hints[inner.name])
                col = prefix + inner.name
                field_types[col] = inner_base
                columns.append(Column(col, overrides.get(col, _default_type(col, inner_base)), nullable=inner_null))
            continue
        field_types[f.name] = base
        col_type = overrides.get(f.name, _default_type(f.name, base))
        columns.append(Column(f.name, col_type, primary_key=f.name in primary_key, nullable=nullable))
    for col_name, comp in (computed or {}).items():
        columns.append(Column(col_name, comp.type, nullable=True))
    constraints = [UniqueConstraint(*cols, name=f"uq_{name}_{'_'.join(cols)}") for cols in uniques]
    table = Table(name, metadata, *columns, *constraints)
    for cols in indexes:
        Index(f"ix_{name}_{'_'.join(cols)}", *[table.c[c] for c in cols])
    SPECS[entity] = EntitySpec(entity, table, tuple(primary_key), flat, field_types, dict(computed or {}))
    return table
