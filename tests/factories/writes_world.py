"""``ReplicaWorld`` plus the client write use cases (C5 – C8, M2), each call its own scope (no container)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spotopt.application.agents.change_agent_config import ChangeAgentConfig, ChangeAgentConfigCommand
from spotopt.application.agents.change_agent_settings import (
    ChangeAgentSettings,
    ChangeAgentSettingsCommand,
    ChangeAgentSettingsResult,
)
from spotopt.application.agents.config_view import AgentConfigView
from spotopt.application.agents.delete_agent import DeleteAgent, DeleteAgentCommand, DeleteAgentResult
from spotopt.application.agents.deletion import AgentDeletion
from spotopt.application.agents.toggle_agent_enabled import (
    ToggleAgentEnabled,
    ToggleAgentEnabledCommand,
    ToggleAgentEnabledResult,
)
from spotopt.application.clients.delete_client import DeleteClient, DeleteClientCommand, DeleteClientResult
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.settings import SettingsChange
from tests.factories.replica_world import ReplicaWorld
from tests.fakes.tenants import InMemoryTenantAgents


class WritesWorld(ReplicaWorld):
    @property
    def deletion(self) -> AgentDeletion:
        return AgentDeletion(self.uow, self.placement)

    async def toggle(self, agent: Agent, enabled: bool) -> ToggleAgentEnabledResult:
        command = ToggleAgentEnabledCommand(client_id=agent.client_id, agent_id=agent.agent_id, enabled=enabled)
        async with self.uow:
            return await ToggleAgentEnabled(self.uow, self.clock).execute(command)

    async def settings(self, agent: Agent, **change: Any) -> ChangeAgentSettingsResult:
        command = ChangeAgentSettingsCommand(
            client_id=agent.client_id, agent_id=agent.agent_id, change=SettingsChange(**change)
        )
        async with self.uow:
            return await ChangeAgentSettings(self.uow, self.clock, self.placement).execute(command)

    async def config(self, agent: Agent, **thresholds: Decimal | int) -> AgentConfigView:
        command = ChangeAgentConfigCommand(client_id=agent.client_id, agent_id=agent.agent_id, thresholds=thresholds)
        async with self.uow:
            return await ChangeAgentConfig(self.uow, self.clock).execute(command)

    async def delete(self, agent: Agent) -> DeleteAgentResult:
        command = DeleteAgentCommand(client_id=agent.client_id, agent_id=agent.agent_id)
        async with self.uow:
            return await DeleteAgent(self.uow, self.clock, self.deletion).execute(command)

    async def delete_client(self, client_id: str) -> DeleteClientResult:
        use_case = DeleteClient(self.uow, self.clock, InMemoryTenantAgents(self.uow.store), self.deletion)
        async with self.uow:
            return await use_case.execute(DeleteClientCommand(client_id=client_id))
