"""Ports for writes that span a tenant's agents (M2): listing its agents and deleting one with A9's effects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from spotopt.domain.agents.agent import Agent
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import AgentId, ClientId


class TenantAgents(Protocol):
    """Reads over one client's agents inside the caller's transaction; never commits."""

    async def active_agent_ids(self, client_id: ClientId) -> Sequence[AgentId]:
        """Ids of the client's non-deleted agents, ascending (the lock order of CC-2)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRemoved:
    """What deleting one agent did (A9)."""

    events: tuple[DomainEvent, ...]
    instances_possibly_running: tuple[str, ...]
    cancelled_command_ids: tuple[str, ...]


class AgentRemoval(Protocol):
    """Domain transition A9 on an agent the caller has locked, inside the caller's transaction; never commits.

    Non-terminal commands → ``cancelled(agent_deleted)``; open episodes → ``superseded``; non-terminal replicas →
    ``terminated(agent_deleted)``; every non-terminated instance → ``terminated(agent_deleted, unconfirmed)`` with
    its ledger entry closed; lifecycle ``deleted``. The caller records the returned events.
    """

    async def delete(self, agent: Agent, now: datetime) -> AgentRemoved: ...
