"""Replicas (port in ``application/ports/replicas.py``; api R2 pages)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select

from spotopt.adapters.persistence.mappers.replicas import REPLICAS
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.adapters.persistence.repositories.base import SqlAlchemyRepository
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.shared.ids import AgentId


class SqlAlchemyReplicaRepository(SqlAlchemyRepository[Replica, ReplicaModel]):
    mapper = REPLICAS

    async def get(self, agent_id: AgentId, replica_id: str) -> Replica | None:
        r = ReplicaModel
        return await self._one(select(r).where(r.agent_id == agent_id, r.replica_id == replica_id))

    async def list_for_agent(self, agent_id: AgentId, *, include_terminal: bool = False) -> Sequence[Replica]:
        r = ReplicaModel
        filters = [r.agent_id == agent_id]
        if not include_terminal:
            filters.append(r.status.in_([s.value for s in NON_TERMINAL_REPLICA]))
        return await self._list(*filters, order_by=[r.created_at.asc(), r.replica_id.asc()])

    async def find_by_instance(self, agent_id: AgentId, instance_id: str) -> Replica | None:
        r = ReplicaModel
        return await self._one(select(r).where(r.agent_id == agent_id, r.instance_id == instance_id))

    async def page_for_agent(
        self, agent_id: AgentId, statuses: Collection[ReplicaStatus], *, limit: int, offset: int
    ) -> tuple[Sequence[Replica], int]:
        r = ReplicaModel
        return await self._page(
            r.agent_id == agent_id,
            r.status.in_([s.value for s in statuses]),
            order_by=[r.created_at.desc(), r.replica_id.asc()],
            limit=limit,
            offset=offset,
        )

    async def add(self, replica: Replica) -> None:
        self._db.add(REPLICAS, replica)
