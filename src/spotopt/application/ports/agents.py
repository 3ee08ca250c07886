"""Ports of the agents feature. Repositories never commit; reads named ``*_for_update`` lock the row (CC-2, CC-3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.shared.ids import AgentId, ClientId


class AgentRepository(Protocol):
    async def get(self, client_id: ClientId, agent_id: str) -> Agent | None:
        """A non-deleted agent of the client, or None (AG-2, CL-4)."""
        ...

    async def get_for_update(self, client_id: ClientId, agent_id: str) -> Agent | None:
        """As ``get``, locking the agent row (CC-3)."""
        ...

    async def find_active_by_logical_id(
        self, client_id: ClientId, logical_agent_id: str, *, for_update: bool = False
    ) -> Agent | None: ...

    async def count_active(self, client_id: ClientId) -> int: ...

    async def add(self, agent: Agent) -> None: ...

    async def list_stale_online(self, cutoff: datetime, limit: int) -> Sequence[StaleAgent]:
        """Active, online agents whose last heartbeat is older than ``cutoff`` (A7), oldest first, at most ``limit``.

        Returns the values read, not entities: the caller re-reads each agent under its lock (compare-and-set).
        """
        ...

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        """As ``get_for_update``, but None when another transaction holds the row (``SKIP LOCKED``, CC-4)."""
        ...

    async def get_for_update_bounded(self, client_id: ClientId, agent_id: str, *, wait_seconds: int) -> Agent | None:
        """As ``get_for_update``, waiting at most ``wait_seconds`` for the row lock (emergency paths, EP-4, pitfall
        11); raises ``LockContentionError`` when the wait runs out (the entrypoint retries, CC-5).
        """
        ...

    async def agents_needing_coordination(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """Replica coordinator inputs (§7.2): active agents in manual-replica mode, or with an open episode, a
        non-terminal replica or a kept-old instance awaiting termination; by agent id after ``after``, at most
        ``limit``. References only: the coordinator re-reads each agent under its lock (CC-4).
        """
        ...

    async def list_evaluable_agents(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """Auto-switch evaluator inputs (§7.2): active, enabled, auto-switching, online agents without an open
        episode and without a pending or delivered switch; by agent id, after ``after`` (keyset), at most ``limit``.

        Returns references only: the evaluator re-checks every guard under the agent lock (CM-6, CC-4).
        """
        ...


class InstanceRepository(Protocol):
    async def get(self, client_id: ClientId, instance_id: str) -> Instance | None: ...

    async def list_for_agent(self, agent_id: AgentId) -> Sequence[Instance]: ...

    async def add(self, instance: Instance) -> None: ...


class SightingRepository(Protocol):
    async def get(self, client_id: ClientId, instance_id: str) -> UnattachedSighting | None: ...

    async def add(self, sighting: UnattachedSighting) -> None: ...

    async def delete(self, sighting: UnattachedSighting) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleAgent:
    """An agent the health monitor found stale, with the heartbeat value it read (for compare-and-set, A7)."""

    client_id: ClientId
    agent_id: AgentId
    last_heartbeat_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRef:
    """An agent a background job should visit; the job re-reads it under its lock."""

    client_id: ClientId
    agent_id: AgentId
