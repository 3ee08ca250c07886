"""DP-3's ``estimator_fallback`` event: a ``catboost`` decision that used the rule estimator for any component.

At most one event per 10 minutes fleet-wide (sliding window, checked in the caller's transaction).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.policy import EngineKind
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.time import utc_iso

EVENT_TYPE = "estimator_fallback"
EVENT_INTERVAL = timedelta(minutes=10)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _window_key(at: datetime) -> str:
    start = _EPOCH + (at - _EPOCH) // EVENT_INTERVAL * EVENT_INTERVAL
    return f"{EVENT_TYPE}:{utc_iso(start)}"


async def record_estimator_fallback(uow: UnitOfWork, decision: Decision, now: datetime) -> bool:
    """Record the event for ``decision`` unless one was recorded in the last 10 minutes; True when recorded."""
    if not decision.fallback_used or decision.engine_kind is not EngineKind.CATBOOST:
        return False
    key = _window_key(now)
    recent = [_window_key(now - EVENT_INTERVAL), key]
    if await uow.pricing.recorded_event_keys(EVENT_TYPE, recent, now - EVENT_INTERVAL):
        return False
    event = DomainEvent(
        type=EVENT_TYPE,
        severity=Severity.ERROR,
        message=(
            f"The catboost engine used the rule estimator (risk model {decision.risk_model_version}, "
            f"price model {decision.price_model_version})"
        ),
        agent_id=decision.agent_id,
        metadata={
            "dedup_key": key,
            "policy_version": decision.policy_version,
            "risk_model_version": decision.risk_model_version,
            "price_model_version": decision.price_model_version,
            "trigger": decision.trigger.value,
        },
    )
    await record_events(uow, [event], now)
    return True
