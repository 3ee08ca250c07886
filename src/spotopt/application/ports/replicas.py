"""Ports of the replicas feature."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import AgentId


class ReplicaRepository(Protocol):
    async def get(self, agent_id: AgentId, replica_id: str) -> Replica | None: ...

    async def list_for_agent(self, agent_id: AgentId, *, include_terminal: bool = False) -> Sequence[Replica]: ...

    async def find_by_instance(self, agent_id: AgentId, instance_id: str) -> Replica | None: ...

    async def page_for_agent(
        self, agent_id: AgentId, statuses: Collection[ReplicaStatus], *, limit: int, offset: int
    ) -> tuple[Sequence[Replica], int]:
        """R2: the agent's replicas in ``statuses``, newest ``created_at`` first (ties by id), one page, and the
        number of matches before paging.
        """
        ...

    async def add(self, replica: Replica) -> None: ...
