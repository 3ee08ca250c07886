"""Fake of the heartbeat fast path's port: the domain predicate over the in-memory store (rolled back with it)."""

from __future__ import annotations

from spotopt.domain.agents.liveness_refresh import LivenessRefresh, apply_refresh, refresh_applies
from tests.fakes.uow import InMemoryUnitOfWork


class InMemoryLivenessRefresher:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow
        self.applied = 0

    async def refresh(self, refresh: LivenessRefresh) -> bool:
        agent = await self._uow.agents.get(refresh.client_id, refresh.agent_id)
        instance = await self._uow.instances.get(refresh.client_id, refresh.instance_id)
        if agent is None or instance is None or not refresh_applies(refresh, agent, instance):
            return False
        apply_refresh(refresh, agent, instance)
        self.applied += 1
        return True
