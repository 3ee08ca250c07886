"""Request shapes of A12 and A14 and the A.7 Decision body (A12, A13, later C4). Unknown fields are ignored (§1.4)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec

from spotopt.application.decisions.decide_for_agent import SuppliedPlacement
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.http.schema_rules import POOL_ID_PATTERN, null_unless
from spotopt.entrypoints.http.wire import Ec2Id, ModeName, dt, num

PROBABILITY_PLACES = 4
Type64 = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
PoolName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class DecideInstanceBody(msgspec.Struct, kw_only=True):
    """A12 ``instance``: the agent's claimed placement (DP-5: compared, never trusted)."""

    openapi_extra: ClassVar[dict[str, Any]] = {
        "properties": {"current_pool_id": {"pattern": POOL_ID_PATTERN}, "pool_id": {"pattern": POOL_ID_PATTERN}}
    }

    instance_id: Ec2Id | None = None
    instance_type: Type64 | None = None
    region: Short | None = None
    az: Short | None = None
    current_mode: ModeName | None = None
    mode: ModeName | None = None
    current_pool_id: PoolName | None = None
    pool_id: PoolName | None = None

    def supplied(self) -> SuppliedPlacement:
        """The first-listed key name wins when both spellings are present (api.md §1.4)."""
        mode = self.current_mode if self.current_mode is not None else self.mode
        return SuppliedPlacement(
            instance_id=self.instance_id,
            instance_type=self.instance_type,
            region=self.region,
            az=self.az,
            mode=Mode(mode) if mode is not None else None,
            pool_id=self.current_pool_id if self.current_pool_id is not None else self.pool_id,
        )


class DecideRequest(msgspec.Struct, kw_only=True):
    instance: DecideInstanceBody | None = None
    # Shape of A6 ``pricing``; DP-5: request prices are never used, so any object is accepted.
    pricing: dict[str, Any] | None = None


class IssueSwitchRequest(msgspec.Struct, kw_only=True):
    openapi_extra: ClassVar[dict[str, Any]] = {
        "properties": {"target_pool_id": {"pattern": POOL_ID_PATTERN}},
        **null_unless("target_mode", "spot", "target_pool_id"),
    }

    target_mode: Literal["spot", "ondemand"]
    target_pool_id: PoolName | None = None
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    priority: Annotated[int, msgspec.Meta(ge=1, le=75)] | None = None
    idempotency_key: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


def decision_body(decision: Decision, logical_agent_id: str) -> dict[str, Any]:
    """A.7 Decision."""
    return {
        "id": decision.decision_id,
        "agent_id": decision.agent_id,
        "logical_agent_id": logical_agent_id,
        "evaluated_at": dt(decision.evaluated_at),
        "trigger": decision.trigger.value,
        "action": decision.action.value,
        "target_mode": decision.target_mode.value,
        "target_pool_id": decision.target_pool_id,
        "motive": decision.motive.value,
        "expected_hourly_savings": num(decision.expected_hourly_savings),
        "expected_savings_vs_ondemand": num(decision.expected_savings_vs_ondemand),
        "risk": num(decision.risk, PROBABILITY_PLACES),
        "confidence": num(decision.confidence, PROBABILITY_PLACES),
        "allowed": decision.allowed,
        "reason_code": decision.reason_code.value,
        "reason": decision.reason,
        "engine_kind": decision.engine_kind.value,
        "policy_version": decision.policy_version,
        "risk_model_version": decision.risk_model_version,
        "price_model_version": decision.price_model_version,
        "fallback_used": decision.fallback_used,
        "flags": list(decision.flags),
        "candidates": [
            {
                "pool_id": c.pool_id,
                "price": num(c.price),
                "forecast_price": num(c.forecast_price),
                "risk": num(c.risk, PROBABILITY_PLACES),
                "eligible": c.eligible,
                "verdict": c.verdict.value,
            }
            for c in decision.candidates
        ],
        "will_auto_execute": decision.will_auto_execute,
        "command_id": decision.command_id,
    }
