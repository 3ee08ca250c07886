"""Client routes C5 – C8 (``/api/client/agents/{agent_id}``): settings, mode changes and deletion of an agent."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, post
from litestar.params import FromPath, JSONBody

from spotopt.application.agents.change_agent_config import ChangeAgentConfig, ChangeAgentConfigCommand
from spotopt.application.agents.change_agent_settings import ChangeAgentSettings, ChangeAgentSettingsCommand
from spotopt.application.agents.delete_agent import DeleteAgent, DeleteAgentCommand
from spotopt.application.agents.toggle_agent_enabled import ToggleAgentEnabled, ToggleAgentEnabledCommand
from spotopt.domain.agents.settings import SettingsChange
from spotopt.entrypoints.http.agents.client_settings_schemas import (
    AgentConfigChangedResponse,
    AgentConfigRequest,
    AgentDeletedResponse,
    AgentSettingsRequest,
    AgentSettingsResponse,
    ToggleEnabledRequest,
    ToggleEnabledResponse,
    settings_of,
)
from spotopt.entrypoints.http.agents.schemas import config_response
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.running import run_use_case

AgentPath = FromPath[str]
Req = Request[Any, Any, Any]


class ClientAgentSettingsController(Controller):
    path = "/api/client/agents"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @post("/{agent_id:str}/toggle-enabled", status_code=200)
    async def toggle_enabled(
        self, request: Req, agent_id: AgentPath, data: JSONBody[ToggleEnabledRequest]
    ) -> ToggleEnabledResponse:
        """C5: enable or disable an agent (domain E1/E2); idempotent."""
        command = ToggleAgentEnabledCommand(client_id=client_id_of(request), agent_id=agent_id, enabled=data.enabled)
        result = await run_use_case(request, ToggleAgentEnabled, lambda uc: uc.execute(command))
        return ToggleEnabledResponse(
            success=True,
            agent_id=result.agent_id,
            enabled=result.enabled,
            cancelled_command_ids=list(result.cancelled_command_ids),
        )

    @post("/{agent_id:str}/settings", status_code=200)
    async def settings(
        self, request: Req, agent_id: AgentPath, data: JSONBody[AgentSettingsRequest]
    ) -> AgentSettingsResponse:
        """C6: replica mode and termination settings (domain M1 – M6); idempotent."""
        change = SettingsChange(
            auto_switch_enabled=data.auto_switch_enabled,
            manual_replica_enabled=data.manual_replica_enabled,
            auto_terminate_enabled=data.auto_terminate_enabled,
            terminate_wait_seconds=data.terminate_wait_seconds,
        )
        command = ChangeAgentSettingsCommand(client_id=client_id_of(request), agent_id=agent_id, change=change)
        result = await run_use_case(request, ChangeAgentSettings, lambda uc: uc.execute(command))
        return AgentSettingsResponse(
            success=True,
            agent_id=result.agent.agent_id,
            settings=settings_of(result.agent),
            retired_replica_ids=list(result.retired_replica_ids),
            cancelled_command_ids=list(result.cancelled_command_ids),
        )

    @post("/{agent_id:str}/config", status_code=200)
    async def config(
        self, request: Req, agent_id: AgentPath, data: JSONBody[AgentConfigRequest]
    ) -> AgentConfigChangedResponse:
        """C7: decision thresholds and switch limits (AG-7, domain M7); idempotent."""
        command = ChangeAgentConfigCommand(
            client_id=client_id_of(request), agent_id=agent_id, thresholds=data.thresholds()
        )
        view = await run_use_case(request, ChangeAgentConfig, lambda uc: uc.execute(command))
        return AgentConfigChangedResponse(success=True, agent_id=view.agent.agent_id, config=config_response(view))

    @delete("/{agent_id:str}", status_code=200)
    async def delete_agent(self, request: Req, agent_id: AgentPath) -> AgentDeletedResponse:
        """C8: delete an agent (domain A9; terminal, a repeat is 404)."""
        command = DeleteAgentCommand(client_id=client_id_of(request), agent_id=agent_id)
        result = await run_use_case(request, DeleteAgent, lambda uc: uc.execute(command))
        return AgentDeletedResponse(
            success=True,
            agent_id=result.agent_id,
            message="Agent deleted",
            instances_possibly_running=list(result.instances_possibly_running),
        )
