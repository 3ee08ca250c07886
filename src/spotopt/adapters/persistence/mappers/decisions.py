"""Decision ↔ ``decisions`` row (its candidates as JSON objects, decimals as text)."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper, decimal_or_none, text_or_none
from spotopt.adapters.persistence.models.decisions import DecisionModel
from spotopt.domain.decisions.candidates import Candidate
from spotopt.domain.decisions.decision import Action, Decision
from spotopt.domain.decisions.inputs import Motive, ReasonCode, Trigger, Verdict
from spotopt.domain.decisions.policy import EngineKind
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.pools import Mode


def _candidate_json(c: Candidate) -> dict[str, Any]:
    return {
        "pool_id": c.pool_id,
        "price": text_or_none(c.price),
        "forecast_price": text_or_none(c.forecast_price),
        "risk": text_or_none(c.risk),
        "verdict": c.verdict.value,
    }


def _candidate(doc: dict[str, Any]) -> Candidate:
    return Candidate(
        pool_id=doc["pool_id"],
        price=decimal_or_none(doc["price"]),
        forecast_price=decimal_or_none(doc["forecast_price"]),
        risk=decimal_or_none(doc["risk"]),
        verdict=Verdict(doc["verdict"]),
    )


class DecisionMapper(Mapper[Decision, DecisionModel]):
    """Decisions are immutable once stored (DP-14, DP-15)."""

    model = DecisionModel

    def identity(self, entity: Decision) -> tuple[Any, ...]:
        return (entity.decision_id,)

    def to_domain(self, model: DecisionModel) -> Decision:
        m = model
        return Decision(
            agent_id=AgentId(m.agent_id),
            evaluated_at=m.evaluated_at,
            trigger=Trigger(m.trigger),
            action=Action(m.action),
            target_mode=Mode(m.target_mode),
            target_pool_id=m.target_pool_id,
            motive=Motive(m.motive),
            expected_hourly_savings=m.expected_hourly_savings,
            expected_savings_vs_ondemand=m.expected_savings_vs_ondemand,
            risk=m.risk,
            confidence=m.confidence,
            allowed=m.allowed,
            reason_code=ReasonCode(m.reason_code),
            reason=m.reason,
            engine_kind=EngineKind(m.engine_kind),
            policy_version=m.policy_version,
            risk_model_version=m.risk_model_version,
            price_model_version=m.price_model_version,
            fallback_used=m.fallback_used,
            flags=tuple(m.flags),
            candidates=tuple(_candidate(doc) for doc in m.candidates),
            will_auto_execute=m.will_auto_execute,
            retry_after=m.retry_after,
            decision_id=m.decision_id,
            command_id=m.command_id,
        )

    def to_model(self, entity: Decision, model: DecisionModel | None = None) -> DecisionModel:
        d, m = entity, model if model is not None else DecisionModel()
        if d.decision_id is None:
            raise InvalidValueError("decision_id", "a stored decision needs its id")
        m.decision_id = d.decision_id
        m.agent_id = d.agent_id
        m.evaluated_at = d.evaluated_at
        m.trigger = d.trigger.value
        m.action = d.action.value
        m.target_mode = d.target_mode.value
        m.target_pool_id = d.target_pool_id
        m.motive = d.motive.value
        m.expected_hourly_savings = d.expected_hourly_savings
        m.expected_savings_vs_ondemand = d.expected_savings_vs_ondemand
        m.risk = d.risk
        m.confidence = d.confidence
        m.allowed = d.allowed
        m.reason_code = d.reason_code.value
        m.reason = d.reason
        m.engine_kind = d.engine_kind.value
        m.policy_version = d.policy_version
        m.risk_model_version = d.risk_model_version
        m.price_model_version = d.price_model_version
        m.fallback_used = d.fallback_used
        m.flags = list(d.flags)
        m.candidates = [_candidate_json(c) for c in d.candidates]
        m.will_auto_execute = d.will_auto_execute
        m.retry_after = d.retry_after
        m.command_id = d.command_id
        return m


DECISIONS = DecisionMapper()
