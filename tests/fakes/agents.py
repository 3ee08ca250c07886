"""Fakes of the agents ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from spotopt.application.errors import ConflictError
from spotopt.application.ports.agents import AgentRef, StaleAgent
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import InstanceRole, KeptReason, Lifecycle, Liveness
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA
from spotopt.domain.shared.ids import AgentId, ClientId
from tests.fakes.store import InMemoryRepository, InMemoryStore


class InMemoryAgentRepository(InMemoryRepository):
    async def get(self, client_id: ClientId, agent_id: str) -> Agent | None:
        agent = self.store.agents.get(agent_id)
        if agent is None or agent.client_id != client_id or agent.lifecycle is Lifecycle.DELETED:
            return None
        return agent

    async def get_for_update(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self.get(client_id, agent_id)

    async def find_active_by_logical_id(
        self, client_id: ClientId, logical_agent_id: str, *, for_update: bool = False
    ) -> Agent | None:
        return next(
            (
                a
                for a in self.store.agents.values()
                if a.client_id == client_id
                and a.logical_agent_id == logical_agent_id
                and a.lifecycle is Lifecycle.ACTIVE
            ),
            None,
        )

    async def count_active(self, client_id: ClientId) -> int:
        return sum(1 for a in self.store.agents.values() if a.client_id == client_id and not a.is_deleted)

    async def add(self, agent: Agent) -> None:
        if agent.lifecycle is Lifecycle.ACTIVE and any(
            a.client_id == agent.client_id
            and a.logical_agent_id == agent.logical_agent_id
            and a.lifecycle is Lifecycle.ACTIVE
            and a.agent_id != agent.agent_id
            for a in self.store.agents.values()
        ):
            raise ConflictError("The change conflicts with existing data", code="conflict")  # AG-1, as the SQL key
        self.store.agents[agent.agent_id] = agent

    async def list_stale_online(self, cutoff: datetime, limit: int) -> Sequence[StaleAgent]:
        stale = [
            a
            for a in self.store.agents.values()
            if a.lifecycle is Lifecycle.ACTIVE
            and a.liveness is Liveness.ONLINE
            and a.last_heartbeat_at is not None
            and a.last_heartbeat_at < cutoff
        ]
        stale.sort(key=lambda a: (a.last_heartbeat_at or cutoff, a.agent_id))
        return [
            StaleAgent(client_id=a.client_id, agent_id=a.agent_id, last_heartbeat_at=a.last_heartbeat_at or cutoff)
            for a in stale[:limit]
        ]

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self.get(client_id, agent_id)

    async def get_for_update_bounded(self, client_id: ClientId, agent_id: str, *, wait_seconds: int) -> Agent | None:
        return await self.get(client_id, agent_id)

    async def agents_needing_coordination(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        found = sorted(
            a.agent_id
            for a in self.store.agents.values()
            if not a.is_deleted and _needs_coordination(self.store, a) and (after is None or a.agent_id > after)
        )
        return [AgentRef(client_id=self.store.agents[a].client_id, agent_id=a) for a in found[:limit]]

    async def list_evaluable_agents(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        found = sorted(
            (
                a
                for a in self.store.agents.values()
                if _evaluable(self.store, a) and (after is None or a.agent_id > after)
            ),
            key=lambda a: a.agent_id,
        )
        return [AgentRef(client_id=a.client_id, agent_id=a.agent_id) for a in found[:limit]]


def _needs_coordination(store: InMemoryStore, agent: Agent) -> bool:
    """Replica coordinator inputs (§7.2), as ``agents_needing_coordination`` selects them."""
    return (
        agent.manual_replica_enabled
        or any(r.agent_id == agent.agent_id and r.status in NON_TERMINAL_REPLICA for r in store.replicas.values())
        or any(e.agent_id == agent.agent_id and e.state in OPEN_EPISODE for e in store.episodes.values())
        or any(
            i.agent_id == agent.agent_id and i.kept_reason is KeptReason.AWAITING_TERMINATION
            for i in store.instances.values()
            if i.role is InstanceRole.KEPT_OLD
        )
    )


class InMemoryInstanceRepository(InMemoryRepository):
    async def get(self, client_id: ClientId, instance_id: str) -> Instance | None:
        return self.store.instances.get((client_id, instance_id))

    async def list_for_agent(self, agent_id: AgentId) -> Sequence[Instance]:
        found = [i for i in self.store.instances.values() if i.agent_id == agent_id]
        return sorted(found, key=lambda i: i.first_seen_at)

    async def add(self, instance: Instance) -> None:
        self.store.instances[(instance.client_id, instance.instance_id)] = instance


class InMemorySightingRepository(InMemoryRepository):
    async def get(self, client_id: ClientId, instance_id: str) -> UnattachedSighting | None:
        return self.store.sightings.get((client_id, instance_id))

    async def add(self, sighting: UnattachedSighting) -> None:
        self.store.sightings[(sighting.client_id, sighting.instance_id)] = sighting

    async def delete(self, sighting: UnattachedSighting) -> None:
        self.store.sightings.pop((sighting.client_id, sighting.instance_id), None)


def _evaluable(store: InMemoryStore, agent: Agent) -> bool:
    """§7.2 evaluator inputs."""
    open_episode = any(e.agent_id == agent.agent_id and e.state in OPEN_EPISODE for e in store.episodes.values())
    live_switch = any(
        c.agent_id == agent.agent_id
        and c.type is CommandType.SWITCH
        and c.status in (CommandStatus.PENDING, CommandStatus.DELIVERED)
        for c in store.commands.values()
    )
    flags = agent.enabled and agent.auto_switch_enabled and agent.liveness is Liveness.ONLINE
    return agent.lifecycle is Lifecycle.ACTIVE and flags and not open_episode and not live_switch
