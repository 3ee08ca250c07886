"""Interruption routes R8, R9 and A10 (``/api/agents``): map the request, run one use case under the emergency
retry budget (EP-4), map the outcome through ``answers.py``. Never rate limited (§1.9).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import FromPath, JSONBody

from spotopt.application.interruptions.handle_interruption_signal import (
    HandleInterruptionSignal,
    HandleInterruptionSignalCommand,
)
from spotopt.application.interruptions.handle_rebalance_recommendation import (
    HandleRebalanceRecommendation,
    HandleRebalanceRecommendationCommand,
)
from spotopt.application.interruptions.handle_termination_imminent import (
    HandleTerminationImminent,
    HandleTerminationImminentCommand,
)
from spotopt.application.replicas.supply import PoolHints
from spotopt.application.retry import EMERGENCY
from spotopt.domain.interruptions.values import SignalKind
from spotopt.domain.shared.time import utc
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.interruptions.answers import r8_response, r9_response
from spotopt.entrypoints.http.interruptions.schemas import (
    EmergencyReplicaRequest,
    RebalanceRequest,
    TerminationImminentRequest,
    rebalance_body,
)
from spotopt.entrypoints.http.openapi import documented
from spotopt.entrypoints.http.running import run_use_case

AgentPath = FromPath[str]
Req = Request[Any, Any, Any]
Body = Response[dict[str, Any]]
SIGNAL_KINDS = {"rebalance-recommendation": SignalKind.REBALANCE, "termination-notice": SignalKind.TERMINATION}
EXEMPT = {"rate_bucket": "exempt"}


class InterruptionController(Controller):
    path = "/api/agents"
    guards = [client_guard]
    opt = {"group": "replica", "rate_bucket": "agent"}

    @post("/{agent_id:str}/create-emergency-replica", opt=EXEMPT, responses=documented(200, 409))
    async def emergency_replica(
        self, request: Req, agent_id: AgentPath, data: JSONBody[EmergencyReplicaRequest]
    ) -> Body:
        """R8: interruption signal + the episode's replica (201 created now, 200 existing; 409 with the reason)."""
        command = HandleInterruptionSignalCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            signal_type=SIGNAL_KINDS[data.signal_type],
            instance_id=data.instance_id,
            termination_time=utc(data.termination_time) if data.termination_time else None,
            detected_at=utc(data.detected_at) if data.detected_at else None,
            hints=PoolHints(
                preferred_pool_id=data.pool_id,
                preferred_zones=tuple(data.preferred_zones or ()),
                exclude_zones=tuple(data.exclude_zones or ()),
            ),
        )
        outcome = await run_use_case(request, HandleInterruptionSignal, lambda uc: uc.execute(command), EMERGENCY)
        return r8_response(outcome)

    @post("/{agent_id:str}/termination-imminent", status_code=200, opt=EXEMPT, responses=documented(202, 409))
    async def termination_imminent(
        self, request: Req, agent_id: AgentPath, data: JSONBody[TerminationImminentRequest]
    ) -> Body:
        """R9: 200 only for a committed promotion (EP-4); 202 while the failover is pending; 409 otherwise."""
        command = HandleTerminationImminentCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            instance_id=data.instance_id,
            termination_time=utc(data.termination_time) if data.termination_time else None,
            detected_at=utc(data.detected_at) if data.detected_at else None,
            replica_id=data.replica_id,
        )
        outcome = await run_use_case(request, HandleTerminationImminent, lambda uc: uc.execute(command), EMERGENCY)
        return r9_response(outcome)

    @post("/{agent_id:str}/rebalance-recommendation", status_code=200, opt={**EXEMPT, "group": "agent"})
    async def rebalance(self, request: Req, agent_id: AgentPath, data: JSONBody[RebalanceRequest]) -> dict[str, Any]:
        """A10: rebalance signal; answers the episode's state (``none`` when not on the primary)."""
        detected = data.detected_at or data.notice_time
        command = HandleRebalanceRecommendationCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            instance_id=data.instance_id,
            detected_at=utc(detected) if detected else None,
        )
        outcome = await run_use_case(request, HandleRebalanceRecommendation, lambda uc: uc.execute(command), EMERGENCY)
        return rebalance_body(outcome)
