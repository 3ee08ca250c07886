"""Loading what a replica route addresses: the agent under its row lock (CC-3) and one of its replicas (RP-8)."""

from __future__ import annotations

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.shared.ids import ClientId


async def lock_agent(uow: UnitOfWork, client_id: ClientId, agent_id: str) -> Agent:
    """A non-deleted agent of the client, locked first (CC-2); otherwise 404 (AG-2, CL-4)."""
    agent = await uow.agents.get_for_update(client_id, agent_id)
    if agent is None:
        raise NotFoundError("Agent not found")
    return agent


async def agent_replica(uow: UnitOfWork, agent: Agent, replica_id: str) -> Replica:
    """RP-8: a replica is addressed only through its own agent; anything else is not found."""
    replica = await uow.replicas.get(agent.agent_id, replica_id)
    if replica is None:
        raise NotFoundError("Replica not found")
    return replica
