"""Explicit row ↔ entity mapping and the per-transaction change tracker."""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.schema import SPECS, EntitySpec, unwrap


def _to_python(base: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(base)
    if origin in (frozenset, tuple):
        args = [a for a in typing.get_args(base) if a is not Ellipsis]
        element = args[0] if args else Any
        items = [_element_to_python(element, v) for v in value]
        return frozenset(items) if origin is frozenset else tuple(items)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return base(value)
    return value


def _element_to_python(element: Any, value: Any) -> Any:
    if isinstance(element, type) and issubclass(element, enum.Enum):
        return element(value)
    if isinstance(element, type) and dataclasses.is_dataclass(element) and isinstance(value, dict):
        hints = typing.get_type_hints(element)
        return element(**{k: _scalar_from_json(hints[k], v) for k, v in value.items()})
    return value


def _scalar_from_json(annotation: Any, value: Any) -> Any:
    base, _ = unwrap(annotation)
    if value is None:
        return None
    if base is Decimal:
        return Decimal(value)
    if base is datetime:
        return datetime.fromisoformat(value)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return base(value)
    return value


def _json_scalar(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def to_row(entity: Any) -> dict[str, Any]:
    """Copy entity state onto a column dict (flattening value objects, adding computed columns)."""
    spec = SPECS[type(entity)]
    row: dict[str, Any] = {}
    for f in dataclasses.fields(entity):
        value = getattr(entity, f.name)
        if f.name in spec.flatten:
            vo_type, prefix = spec.flatten[f.name]
            for inner in dataclasses.fields(vo_type):
                row[prefix + inner.name] = _to_db(getattr(value, inner.name))
            continue
        row[f.name] = _to_db(value)
    for name, comp in spec.computed.items():
        row[name] = comp.compute(entity)
    return row


def _to_db(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(_json_scalar(v) for v in value)
    if isinstance(value, tuple):
        return [
            {k: _json_scalar(v) for k, v in dataclasses.asdict(item).items()}
            if dataclasses.is_dataclass(item) and not isinstance(item, type)
            else _json_scalar(item)
            for item in value
        ]
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def to_domain(entity_type: type[Any], row: Mapping[str, Any]) -> Any:
    """Build the entity from a row mapping."""
    spec = SPECS[entity_type]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(entity_type):
        if f.name in spec.flatten:
            vo_type, prefix = spec.flatten[f.name]
            inner_kwargs = {
                inner.name: _to_python(spec.field_types[prefix + inner.name], row[prefix + inner.name])
                for inner in dataclasses.fields(vo_type)
            }
            kwargs[f.name] = vo_type(**inner_kwargs)
            continue
        kwargs[f.name] = _to_python(spec.field_types[f.name], row[f.name])
    return entity_type(**kwargs)


class Tracker:
    """Remembers every entity loaded or added in one transaction and writes what changed on flush.

    Entities are plain dataclasses (never instrumented): the tracker keeps the column snapshot taken at load
    time and issues an UPDATE with only the changed columns, or an INSERT for new entities. Loading the same
    row twice in one transaction returns the same entity object (identity map).
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._seen: dict[tuple[type[Any], tuple[Any, ...]], tuple[Any, dict[str, Any] | None]] = {}

    @staticmethod
    def _key(spec: EntitySpec, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(values[k] for k in spec.primary_key)

    def load(self, entity_type: type[Any], row: Mapping[str, Any], *, refresh: bool = False) -> Any:
        """The entity of ``row``; the same object for the same row within the transaction.

        ``refresh`` (a locking read): an entity this transaction has not changed is brought up to the row just
        read, so a decision taken under the lock never rests on state read before it (CC-3).
        """
        spec = SPECS[entity_type]
        key = (entity_type, self._key(spec, row))
        if key in self._seen:
            entity, snapshot = self._seen[key]
            if refresh and snapshot is not None and to_row(entity) == snapshot:
                fresh = to_domain(entity_type, row)
                for f in dataclasses.fields(entity_type):
                    setattr(entity, f.name, getattr(fresh, f.name))
                self._seen[key] = (entity, to_row(entity))
            return entity
        entity = to_domain(entity_type, row)
        self._seen[key] = (entity, to_row(entity))
        return entity

    def add(self, entity: Any) -> None:
        spec = SPECS[type(entity)]
        key = (type(entity), self._key(spec, to_row(entity)))
        self._seen[key] = (entity, None)

    def is_tracked(self, entity: Any) -> bool:
        spec = SPECS[type(entity)]
        return (type(entity), self._key(spec, to_row(entity))) in self._seen

    def forget(self, entity: Any) -> None:
        spec = SPECS[type(entity)]
        self._seen.pop((type(entity), self._key(spec, to_row(entity))), None)

    def clear(self) -> None:
        """Forget every entity (after a rollback nothing tracked so far may be written)."""
        self._seen.clear()

    async def flush(self) -> None:
        for key, (entity, snapshot) in list(self._seen.items()):
            spec = SPECS[key[0]]
            current = to_row(entity)
            if snapshot is None:
                await self._session.execute(insert(spec.table).values(**current))
            else:
                changed = {k: v for k, v in current.items() if snapshot.get(k) != v}
                if not changed:
                    continue
                where = and_(*[spec.table.c[k] == snapshot[k] for k in spec.primary_key])
                await self._session.execute(update(spec.table).where(where).values(**changed))
            self._seen[key] = (entity, current)
