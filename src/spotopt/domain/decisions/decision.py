"""The decision policy (domain §6.3-§6.7, §6.10): one pure ``decide`` shared by every engine (DP-1)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from spotopt.domain.decisions.candidates import MAX_CANDIDATES, Candidate
from spotopt.domain.decisions.inputs import LIMIT_REASONS, Motive, ReasonCode, Trigger
from spotopt.domain.decisions.policy import EngineKind
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent, NotificationSpec, Severity
from spotopt.domain.shared.ids import AgentId, ClientId
from spotopt.domain.shared.pools import Mode
from spotopt.domain.shared.time import utc_iso

STORE_AT_LEAST_EVERY = timedelta(hours=1)


class Action(StrEnum):
    STAY = "stay"
    SWITCH_POOL = "switch_pool"
    SWITCH_TO_ONDEMAND = "switch_to_ondemand"
    SWITCH_TO_SPOT = "switch_to_spot"


@dataclass(frozen=True, slots=True)
class Decision:
    """§6.3 / A.7 decision; ``decision_id`` and ``command_id`` are assigned by the use case after ``decide``."""

    agent_id: AgentId
    evaluated_at: datetime
    trigger: Trigger
    action: Action
    target_mode: Mode
    target_pool_id: str | None
    motive: Motive
    expected_hourly_savings: Decimal | None
    expected_savings_vs_ondemand: Decimal | None
    risk: Decimal
    confidence: Decimal
    allowed: bool
    reason_code: ReasonCode
    reason: str
    engine_kind: EngineKind
    policy_version: str
    risk_model_version: str | None
    price_model_version: str | None
    fallback_used: bool
    flags: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    will_auto_execute: bool
    retry_after: datetime | None = None
    decision_id: str | None = None
    command_id: str | None = None

    def __post_init__(self) -> None:
        if self.allowed and self.action is Action.STAY:
            raise InvalidValueError("allowed", "is false for every stay (§6.3)")
        if len(self.candidates) > MAX_CANDIDATES:
            raise InvalidValueError("candidates", f"at most {MAX_CANDIDATES}")

    def with_ids(self, decision_id: str, command_id: str | None = None) -> Decision:
        """DP-15: the stored decision with its id and, when the evaluator queued one, its command."""
        return dataclasses.replace(self, decision_id=decision_id, command_id=command_id)


def should_store(decision: Decision, previous: Decision | None, command_created: bool) -> bool:
    """DP-14: request decisions always; evaluator ones on a command, a change of outcome, or hourly."""
    if decision.trigger is not Trigger.EVALUATOR or command_created or previous is None:
        return True
    outcome = (decision.action, decision.allowed, decision.reason_code)
    if outcome != (previous.action, previous.allowed, previous.reason_code):
        return True
    return decision.evaluated_at - previous.evaluated_at >= STORE_AT_LEAST_EVERY


def is_switch_limited(decision: Decision) -> bool:
    """Pitfall 19: an evaluator move held back by G1-G3 (limits or cooldown)."""
    held = decision.action is not Action.STAY and not decision.allowed
    return decision.trigger is Trigger.EVALUATOR and held and decision.reason_code in LIMIT_REASONS


_LIMIT_LABEL = {
    ReasonCode.DAILY_LIMIT_REACHED: "the daily switch limit",
    ReasonCode.WEEKLY_LIMIT_REACHED: "the weekly switch limit",
    ReasonCode.COOLDOWN: "the switch cooldown",
}


def switch_limited_event(decision: Decision, client_id: ClientId, agent_label: str) -> DomainEvent | None:
    """§8.2 ``switch_limited`` (N-switch-limited): once per agent per UTC day through its dedup key (NT-4)."""
    if not is_switch_limited(decision):
        return None
    retry_after = utc_iso(decision.retry_after) if decision.retry_after is not None else None
    limit = _LIMIT_LABEL[decision.reason_code]
    message = (
        f"{agent_label}: {limit} reached; the next automatic switch is possible after "
        f"{retry_after or 'the limit window ends'}."
    )
    return DomainEvent(
        type="switch_limited",
        severity=Severity.INFO,
        message=message,
        client_id=client_id,
        agent_id=decision.agent_id,
        metadata={
            "reason_code": decision.reason_code.value,
            "retry_after": retry_after,
        },
        notification=NotificationSpec(
            name="switch-limited",
            severity=Severity.INFO,
            title="Automatic switching paused",
            message=message,
            dedup_key=f"switch_limited:{decision.agent_id}:{decision.evaluated_at.date().isoformat()}",
        ),
    )
