"""Set-based statements of the bulk paths (pricing submissions, pools, buckets, interpolation records).

These handle thousands of rows per call, so they are Core statements on the models' tables (``IN`` lists in
chunks, multi-row upserts) rather than one tracked entity per row. Rows come from the mappers (``to_model``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.mappers.base import Mapper
from spotopt.adapters.persistence.models.base import Base, table_of

E = TypeVar("E")
M = TypeVar("M", bound=Base)
IN_CHUNK = 500
_ROW_CHUNK = 1000


def chunks(items: Sequence[E], size: int = IN_CHUNK) -> Iterator[Sequence[E]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def rows(mapper: Mapper[E, M], entities: Sequence[E]) -> list[dict[str, Any]]:
    """Column values of each entity, by column name (the models' attribute names are their column names)."""
    table = table_of(mapper.model)
    found = []
    for entity in entities:
        model = mapper.to_model(entity)
        found.append({column.name: getattr(model, column.name) for column in table.columns})
    return found


async def upsert(entities: SessionEntities, table: Table, values: Sequence[dict[str, Any]], *, replace: bool) -> None:
    """Multi-row insert by primary key: ``replace`` overwrites the other columns of an existing row, else the
    existing row is left exactly as it is. Pending new rows go first (the rows may reference them).
    """
    if not values:
        return
    await entities.flush_new()
    session = entities.session
    pk = [c.name for c in table.primary_key.columns]
    others = [c.name for c in table.columns if c.name not in pk]
    for chunk in chunks(values, _ROW_CHUNK):
        await entities.execute_many(_upsert_statement(session, table, pk, others, replace=replace), list(chunk))


def _upsert_statement(session: AsyncSession, table: Table, pk: list[str], others: list[str], *, replace: bool) -> Any:
    if session.get_bind().dialect.name in {"mysql", "mariadb"}:
        my = mysql.insert(table)
        kept = {pk[0]: my.inserted[pk[0]]}  # a no-op update: the key column keeps its own value
        return my.on_duplicate_key_update({n: my.inserted[n] for n in others} if replace else kept)
    lite = sqlite.insert(table)
    if replace:
        return lite.on_conflict_do_update(index_elements=pk, set_={n: lite.excluded[n] for n in others})
    return lite.on_conflict_do_nothing(index_elements=pk)
