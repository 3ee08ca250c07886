"""Agent routes A1 – A3, A8, A9, A11 (``/api/agents``): map the request, run one use case, map the result."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from spotopt.application.agents.get_agent_config import GetAgentConfig, GetAgentConfigQuery
from spotopt.application.agents.record_heartbeat import RecordHeartbeat, RecordHeartbeatCommand
from spotopt.application.agents.register_agent import RegisterAgent, RegisterAgentCommand
from spotopt.application.agents.report_cleanup import ReportCleanup, ReportCleanupCommand
from spotopt.application.agents.report_termination import ReportTermination, ReportTerminationCommand
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.pools import Mode
from spotopt.domain.shared.time import utc
from spotopt.entrypoints.http.agents.schemas import (
    AgentConfigResponse,
    AgentRegisterRequest,
    CleanupRequest,
    HeartbeatRequest,
    TerminationRequest,
    config_response,
)
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.openapi import documented
from spotopt.entrypoints.http.running import run_use_case

AgentPath = FromPath[str]
Req = Request[Any, Any, Any]


class AgentController(Controller):
    path = "/api/agents"
    guards = [client_guard]
    opt = {"group": "agent", "rate_bucket": "agent"}

    @post("/register", responses=documented(200, 409))
    async def register(self, request: Req, data: JSONBody[AgentRegisterRequest]) -> Response[dict[str, Any]]:
        """A1: register or refresh the agent (R-1 … R-8); 201 when a new agent was created."""
        command = RegisterAgentCommand(
            client_id=client_id_of(request),
            logical_agent_id=data.logical_agent_id,
            instance_id=data.instance_id,
            instance_type=data.instance_type,
            region=data.region,
            az=data.az,
            mode=Mode(data.mode or "unknown"),
            hostname=data.hostname,
            ami_id=data.ami_id,
            agent_version=data.agent_version,
            private_ip=data.private_ip,
            public_ip=data.public_ip,
        )
        result = await run_use_case(request, RegisterAgent, lambda uc: uc.execute(command))
        body = {
            "agent_id": result.config.agent.agent_id,
            "client_id": result.config.agent.client_id,
            "config": msgspec.to_builtins(config_response(result.config)),
        }
        return Response(body, status_code=201 if result.created else 200)

    @post("/{agent_id:str}/heartbeat", status_code=200)
    async def heartbeat(self, request: Req, agent_id: AgentPath, data: JSONBody[HeartbeatRequest]) -> dict[str, Any]:
        """A2: liveness and reported status (H-1 … H-7)."""
        command = RecordHeartbeatCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            status=data.status,
            instance_id=data.instance_id,
            instance_type=data.instance_type,
            mode=Mode(data.mode) if data.mode else None,
            az=data.az,
            monitored_instances=list(data.monitored_instances or []),
        )
        await run_use_case(request, RecordHeartbeat, lambda uc: uc.execute(command))
        return {"success": True}

    @get("/{agent_id:str}/config")
    async def config(self, request: Req, agent_id: AgentPath) -> AgentConfigResponse:
        """A3: the effective agent configuration (agent v4 reads ``enabled``)."""
        query = GetAgentConfigQuery(client_id=client_id_of(request), agent_id=agent_id)
        view = await run_use_case(request, GetAgentConfig, lambda uc: uc.execute(query))
        return config_response(view)

    @get("/{agent_id:str}/replica-config")
    async def replica_config(self, request: Req, agent_id: AgentPath) -> dict[str, Any]:
        """A11: replica flags and count."""
        query = GetAgentConfigQuery(client_id=client_id_of(request), agent_id=agent_id)
        view = await run_use_case(request, GetAgentConfig, lambda uc: uc.execute(query))
        return {
            "success": True,
            "replica_enabled": view.agent.manual_replica_enabled,
            "replica_count": view.replica_count,
            "manual_replica_enabled": view.agent.manual_replica_enabled,
            "auto_switch_enabled": view.agent.auto_switch_enabled,
            "current_replica_id": view.current_replica_id,
        }

    @post("/{agent_id:str}/termination", status_code=200, responses=documented(409))
    async def termination(
        self, request: Req, agent_id: AgentPath, data: JSONBody[TerminationRequest]
    ) -> dict[str, Any]:
        """A8: report an instance terminated (T-1)."""
        command = ReportTerminationCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            instance_id=data.instance_id,
            reason=data.reason or "unknown",
        )
        result = await run_use_case(request, ReportTermination, lambda uc: uc.execute(command))
        return {"success": True, "instance_id": result.instance_id, "role": result.role}

    @post("/{agent_id:str}/cleanup-report", status_code=200)
    async def cleanup_report(self, request: Req, agent_id: AgentPath, data: JSONBody[CleanupRequest]) -> dict[str, Any]:
        """A9: cleanup figures, or an old instance confirmed gone (T-2)."""
        command = _cleanup_command(request, agent_id, data)
        result = await run_use_case(request, ReportCleanup, lambda uc: uc.execute(command))
        return {
            "success": True,
            "message": "Cleanup report recorded",
            "deleted_snapshots": result.deleted_snapshots,
            "deleted_amis": result.deleted_amis,
            "failed_count": result.failed_count,
            "old_instance_result": result.old_instance_result,
        }


def _cleanup_command(request: Req, agent_id: str, data: CleanupRequest) -> ReportCleanupCommand:
    """A9's figures: snapshots deleted by either section, failures counted per item and per section error."""
    if data.snapshots is None and data.amis is None and data.old_instance_id is None:
        raise InvalidValueError("snapshots", "one of snapshots, amis or old_instance_id is required")
    snapshots, amis = data.snapshots, data.amis
    deleted_snapshots = (len(snapshots.deleted) if snapshots else 0) + (len(amis.deleted_snapshots) if amis else 0)
    failed = (len(snapshots.failed) if snapshots else 0) + (len(amis.failed) if amis else 0)
    failed += sum(1 for section in (snapshots, amis) if section is not None and section.error)
    return ReportCleanupCommand(
        client_id=client_id_of(request),
        agent_id=agent_id,
        reported_at=utc(data.timestamp) if data.timestamp else None,
        deleted_snapshots=deleted_snapshots,
        deleted_amis=len(amis.deleted_amis) if amis else 0,
        failed_count=failed,
        body=msgspec.to_builtins(data),
        old_instance_id=data.old_instance_id,
        old_instance_success=data.success if data.success is not None else True,
    )
