"""A3 / A11: the agent's effective configuration (no side effects)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.agents.config_view import AgentConfigView, config_view
from spotopt.application.errors import NotFoundError
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAgentConfigQuery:
    client_id: ClientId
    agent_id: str


class GetAgentConfig:
    """- A non-deleted agent of the token's client, else not found (AG-2, CL-4)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, query: GetAgentConfigQuery) -> AgentConfigView:
        agent = await self._uow.agents.get(query.client_id, query.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        return await config_view(self._uow, agent)
