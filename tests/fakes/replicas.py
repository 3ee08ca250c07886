"""Fakes of the replicas ports."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.shared.ids import AgentId
from tests.fakes.store import InMemoryRepository


class InMemoryReplicaRepository(InMemoryRepository):
    async def get(self, agent_id: AgentId, replica_id: str) -> Replica | None:
        replica = self.store.replicas.get(replica_id)
        return replica if replica is not None and replica.agent_id == agent_id else None

    async def list_for_agent(self, agent_id: AgentId, *, include_terminal: bool = False) -> Sequence[Replica]:
        found = [
            r
            for r in self.store.replicas.values()
            if r.agent_id == agent_id and (include_terminal or r.status in NON_TERMINAL_REPLICA)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.replica_id))

    async def find_by_instance(self, agent_id: AgentId, instance_id: str) -> Replica | None:
        return next(
            (r for r in self.store.replicas.values() if r.agent_id == agent_id and r.instance_id == instance_id), None
        )

    async def page_for_agent(
        self, agent_id: AgentId, statuses: Collection[ReplicaStatus], *, limit: int, offset: int
    ) -> tuple[Sequence[Replica], int]:
        found = [r for r in self.store.replicas.values() if r.agent_id == agent_id and r.status in statuses]
        found.sort(key=lambda r: r.replica_id)
        found.sort(key=lambda r: r.created_at, reverse=True)
        return found[offset : offset + limit], len(found)

    async def add(self, replica: Replica) -> None:
        self.store.replicas[replica.replica_id] = replica
