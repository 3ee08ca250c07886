"""Decision routes A12 – A14 (``/api/agents``): map the request, run one use case, map the result."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from spotopt.application.commands.issue_switch import IssueSwitch, IssueSwitchCommand
from spotopt.application.decisions.decide_for_agent import DecideForAgent, DecideForAgentCommand
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.decisions.schemas import DecideRequest, IssueSwitchRequest, decision_body
from spotopt.entrypoints.http.openapi import documented
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.wire_objects import command_body

AgentPath = FromPath[str]
Req = Request[Any, Any, Any]


class DecisionController(Controller):
    path = "/api/agents"
    guards = [client_guard]
    opt = {"group": "agent", "rate_bucket": "agent"}

    @post("/{agent_id:str}/decide", status_code=200)
    async def decide(self, request: Req, agent_id: AgentPath, data: JSONBody[DecideRequest]) -> dict[str, Any]:
        """A12: evaluate the policy now from server state (DP-5); the decision is stored, no command."""
        command = DecideForAgentCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            trigger=Trigger.DECIDE_REQUEST,
            supplied=data.instance.supplied() if data.instance is not None else None,
        )
        result = await run_use_case(request, DecideForAgent, lambda uc: uc.execute(command))
        return {"success": True, **decision_body(result.decision, result.logical_agent_id)}

    @get("/{agent_id:str}/switch-recommendation")
    async def switch_recommendation(self, request: Req, agent_id: AgentPath) -> dict[str, Any]:
        """A13: the current recommendation with ``will_auto_execute`` and candidates; stored, no command."""
        command = DecideForAgentCommand(
            client_id=client_id_of(request), agent_id=agent_id, trigger=Trigger.RECOMMENDATION_REQUEST
        )
        result = await run_use_case(request, DecideForAgent, lambda uc: uc.execute(command))
        return {"success": True, **decision_body(result.decision, result.logical_agent_id)}

    @post("/{agent_id:str}/issue-switch-command", responses=documented(200, 409, 422))
    async def issue_switch_command(
        self,
        request: Req,
        agent_id: AgentPath,
        data: JSONBody[IssueSwitchRequest],
    ) -> Response[dict[str, Any]]:
        """A14: queue a switch with origin ``api``; 201 when created, 200 for a known idempotency key (CM-7)."""
        command = IssueSwitchCommand(
            client_id=client_id_of(request), agent_id=agent_id, target_mode=Mode(data.target_mode),
            target_pool_id=data.target_pool_id, reason=data.reason, priority=data.priority,
            idempotency_key=data.idempotency_key,
        )  # fmt: skip
        result = await run_use_case(request, IssueSwitch, lambda uc: uc.execute(command))
        body = {"success": True, "created": result.created, "command": command_body(result.command)}
        return Response(body, status_code=201 if result.created else 200)
