"""Reads over one client's agents for tenant-wide writes (port ``TenantAgents`` in ``application/ports/tenants.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.entities import translated
from spotopt.adapters.persistence.models.agents import AgentModel
from spotopt.domain.agents.values import Lifecycle
from spotopt.domain.shared.ids import AgentId, ClientId


class SqlAlchemyTenantAgents:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def active_agent_ids(self, client_id: ClientId) -> Sequence[AgentId]:
        a = AgentModel
        stmt = (
            select(a.agent_id)
            .where(a.client_id == client_id, a.lifecycle == Lifecycle.ACTIVE.value)
            .order_by(a.agent_id.asc())
        )
        with translated():
            rows = (await self._session.execute(stmt)).scalars().all()
        return [AgentId(r) for r in rows]
