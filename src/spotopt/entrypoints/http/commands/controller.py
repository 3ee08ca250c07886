"""Command routes A4, A5, A7 (``/api/agents``): map the request, run one use case, map the result."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from spotopt.application.commands.acknowledge_command import AcknowledgeCommand, AcknowledgeCommandCommand
from spotopt.application.commands.poll_commands import PollCommands, PollCommandsCommand
from spotopt.application.commands.report_switch import ReportSwitch, ReportSwitchCommand
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.commands.schemas import AckRequest, SwitchReportRequest, instance_facts, switch_timing
from spotopt.entrypoints.http.openapi import documented
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.wire_objects import delivered_command

AgentPath = FromPath[str]
Req = Request[Any, Any, Any]


class CommandController(Controller):
    path = "/api/agents"
    guards = [client_guard]
    opt = {"group": "agent", "rate_bucket": "agent"}

    @get("/{agent_id:str}/pending-commands")
    async def pending_commands(self, request: Req, agent_id: AgentPath) -> dict[str, Any]:
        """A4: at most one command, the head of the queue, leased (CM-3, CM-4)."""
        source = request.client.host if request.client else None
        command = PollCommandsCommand(client_id=client_id_of(request), agent_id=agent_id, source_address=source)
        delivered = await run_use_case(request, PollCommands, lambda uc: uc.execute(command))
        return {"success": True, "commands": [delivered_command(delivered)] if delivered else []}

    @post("/{agent_id:str}/commands/{command_id:str}/executed", status_code=200, responses=documented(409))
    async def executed(
        self,
        request: Req,
        agent_id: AgentPath,
        command_id: FromPath[str],
        data: JSONBody[AckRequest],
    ) -> dict[str, Any]:
        """A5: acknowledge an executed command (idempotent, CM-8)."""
        ack = AcknowledgeCommandCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            command_id=command_id,
            success=data.success,
            message=data.message,
            result=data.result,
        )
        command = await run_use_case(request, AcknowledgeCommand, lambda uc: uc.execute(ack))
        return {"success": True, "command_id": command.command_id, "status": command.status.value}

    @post("/{agent_id:str}/switch-report", responses=documented(200))
    async def switch_report(
        self, request: Req, agent_id: AgentPath, data: JSONBody[SwitchReportRequest]
    ) -> Response[dict[str, Any]]:
        """A7: record a completed switch (S-1 … S-5); 200 for a repeated report."""
        prices = data.prices if data.prices is not None else data.pricing
        command = ReportSwitchCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            old=instance_facts(data.old_instance),
            new=instance_facts(data.new_instance),
            timing=switch_timing(data.timing),
            reported_prices=dict(prices) if prices is not None else None,
            trigger=data.trigger,
            command_id=data.command_id,
        )
        result = await run_use_case(request, ReportSwitch, lambda uc: uc.execute(command))
        switch = result.switch
        body = {
            "success": True,
            "switch_id": switch.switch_id,
            "command_id": switch.command_id,
            "applied": switch.applied,
        }
        return Response(body, status_code=201 if result.created else 200)
