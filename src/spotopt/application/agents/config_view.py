"""Read models returned by use cases (plain dataclasses; the entrypoints map them to wire shapes)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus

_PROMOTABILITY = {ReplicaStatus.READY: 0, ReplicaStatus.SYNCING: 1, ReplicaStatus.LAUNCHING: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConfigView:
    """A.1 AgentConfig with its derived fields (§2.2: never stored as truth)."""

    agent: Agent
    replica_count: int
    current_replica_id: str | None


def current_replica(replicas: list[Replica]) -> Replica | None:
    """§2.2: the most promotable replica (ready > syncing > launching, then oldest)."""
    live = [r for r in replicas if r.status in _PROMOTABILITY]
    return min(live, key=lambda r: (_PROMOTABILITY[r.status], r.created_at, r.replica_id), default=None)


async def config_view(uow: UnitOfWork, agent: Agent) -> AgentConfigView:
    replicas = list(await uow.replicas.list_for_agent(agent.agent_id))
    best = current_replica(replicas)
    return AgentConfigView(
        agent=agent, replica_count=len(replicas), current_replica_id=best.replica_id if best else None
    )
