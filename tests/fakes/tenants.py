"""Fakes of the tenant ports (``application/ports/tenants.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from spotopt.domain.agents.values import Lifecycle
from spotopt.domain.shared.ids import AgentId, ClientId
from tests.fakes.store import InMemoryRepository


class InMemoryTenantAgents(InMemoryRepository):
    async def active_agent_ids(self, client_id: ClientId) -> Sequence[AgentId]:
        return sorted(
            a.agent_id
            for a in self.store.agents.values()
            if a.client_id == client_id and a.lifecycle is Lifecycle.ACTIVE
        )
