"""What the repositories share: the session's entities, keyset helpers and advanced-alchemy's list helpers.

advanced-alchemy's ``SQLAlchemyAsyncRepository`` does the filtered lists, counts and pages of a model; it stays
inside the adapters (ports never see it) and its errors are translated by ``entities.translated``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from advanced_alchemy.filters import LimitOffset
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import ColumnElement, Select, UnaryExpression
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.entities import SessionEntities, translated
from spotopt.adapters.persistence.mappers.base import Mapper
from spotopt.adapters.persistence.models.base import Base
from spotopt.application.ports.agents import AgentRef
from spotopt.domain.shared.ids import AgentId, ClientId

E = TypeVar("E")
M = TypeVar("M", bound=Base)

Filter = ColumnElement[bool]
RowsSelect = Select[*tuple[Any, ...]]
"""A select of plain columns (ids, keys), whatever their number."""
Order = UnaryExpression[Any]


class Rows(SQLAlchemyAsyncRepository[M], Generic[M]):
    """advanced-alchemy's repository of one model, for lists, counts and pages (never for writes here)."""


@functools.cache
def _rows_type(model: type[Base]) -> type[Rows[Any]]:
    pk = model.__mapper__.primary_key[0].key
    return type(f"{model.__name__}Rows", (Rows,), {"model_type": model, "id_attribute": pk})


def rows_of(model: type[M], session: AsyncSession) -> Rows[M]:
    rows: Rows[M] = _rows_type(model)(session=session, auto_refresh=False)
    return rows


class SqlAlchemyRepository(Generic[E, M]):
    """A repository of one aggregate over the unit of work's ``SessionEntities``."""

    mapper: ClassVar[Mapper[Any, Any]]

    def __init__(self, entities: SessionEntities) -> None:
        self._db = entities
        self._session = entities.session
        self._rows: dict[type[Base], Rows[Any]] = {}

    def _rows_of(self, model: type[Base]) -> Rows[Any]:
        if model not in self._rows:
            self._rows[model] = rows_of(model, self._session)
        return self._rows[model]

    async def _list(
        self, *filters: Filter, order_by: Sequence[Order] = (), mapper: Mapper[Any, Any] | None = None
    ) -> list[Any]:
        mapper = mapper or self.mapper
        with translated():
            models = await self._rows_of(mapper.model).get_many(*filters, order_by=list(order_by))
        return [self._db.load(mapper, model) for model in models]

    async def _page(self, *filters: Filter, order_by: Sequence[Order], limit: int, offset: int) -> tuple[list[E], int]:
        with translated():
            models, total = await self._rows_of(self.mapper.model).get_many_and_count(
                *filters, LimitOffset(limit=limit, offset=offset), order_by=list(order_by)
            )
        return [self._db.load(self.mapper, model) for model in models], total

    async def _count(self, *filters: Filter, model: type[Base] | None = None) -> int:
        with translated():
            return await self._rows_of(model or self.mapper.model).count(*filters)

    async def _one(self, stmt: Select[Any]) -> E | None:
        found: E | None = await self._db.one(self.mapper, stmt)
        return found

    async def _locked(self, stmt: Select[Any]) -> E | None:
        found: E | None = await self._db.locked(self.mapper, stmt)
        return found


async def agent_refs(
    entities: SessionEntities, stmt: RowsSelect, agent_id: Any, limit: int, after: AgentId | None
) -> list[AgentRef]:
    """Distinct ``(client_id, agent_id)`` rows of ``stmt`` by agent id after ``after`` (keyset), at most ``limit``."""
    if after is not None:
        stmt = stmt.where(agent_id > after)
    rows = (await entities.execute(stmt.distinct().order_by(agent_id).limit(limit))).all()
    return [AgentRef(client_id=ClientId(r.client_id), agent_id=AgentId(r.agent_id)) for r in rows]
