"""Decision inputs and rules: eligibility (DP-7), ranking (§6.7) and execution guards (§6.6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.domain.decisions.candidates import eligibility_verdict
from spotopt.domain.decisions.inputs import (
    API_CONDITIONS,
    DAY,
    VOLUNTARY_MOTIVES,
    WEEK,
    DecisionInput,
    Motive,
    ReasonCode,
    Verdict,
)
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError, UnusableTargetError
from spotopt.domain.shared.pools import Mode, PoolId


@dataclass(frozen=True, slots=True)
class GuardHold:
    """A failing §6.6 guard: the reason and, when known, the earliest time it may pass."""

    reason: ReasonCode
    retry_after: datetime | None = None


def limit_guard(inp: DecisionInput, now: datetime) -> GuardHold | None:
    """§6.6 G1-G3: daily and weekly limits, then the cooldown after the last move."""
    t, c = inp.thresholds, inp.counters
    if c.switches_24h >= t.max_switches_per_day:
        return GuardHold(ReasonCode.DAILY_LIMIT_REACHED, c.frees_at(DAY, t.max_switches_per_day, now))
    if c.switches_7d >= t.max_switches_per_week:
        return GuardHold(ReasonCode.WEEKLY_LIMIT_REACHED, c.frees_at(WEEK, t.max_switches_per_week, now))
    cooldown = timedelta(minutes=t.cooldown_minutes)
    if c.last_move_finished_at is not None and now - c.last_move_finished_at < cooldown:
        return GuardHold(ReasonCode.COOLDOWN, c.last_move_finished_at + cooldown)
    return None


def voluntary_guard(
    inp: DecisionInput,
    expected_hourly_savings: Decimal | None,
    current_price: Decimal | None,
    policy: PolicyDocument,
    now: datetime,
) -> GuardHold | None:
    """§6.6 G4-G6: minimum stay, auto-terminate on, and payback of the overlap (savings and return-to-spot only)."""
    min_stay = timedelta(hours=inp.thresholds.min_pool_duration_hours)
    if inp.placement_since is not None and now - inp.placement_since < min_stay:
        return GuardHold(ReasonCode.MIN_POOL_DURATION, inp.placement_since + min_stay)
    if not inp.auto_terminate_enabled:
        return GuardHold(ReasonCode.AUTO_TERMINATE_OFF)
    if expected_hourly_savings is None or current_price is None:
        return GuardHold(ReasonCode.INSUFFICIENT_PAYBACK)
    gain = expected_hourly_savings * max(inp.thresholds.min_pool_duration_hours, 1)
    overlap_cost = current_price * (inp.terminate_wait_seconds + policy.launch_overhead_seconds) / 3600
    if gain <= overlap_cost:
        return GuardHold(ReasonCode.INSUFFICIENT_PAYBACK)
    return None


def check_guards(
    motive: Motive,
    inp: DecisionInput,
    *,
    expected_hourly_savings: Decimal | None,
    current_price: Decimal | None,
    policy: PolicyDocument,
    now: datetime,
) -> GuardHold | None:
    """§6.6: the first failing guard; risk moves skip G4-G6 but never the limits and the cooldown."""
    hold = limit_guard(inp, now)
    if hold is None and motive in VOLUNTARY_MOTIVES:
        hold = voluntary_guard(inp, expected_hourly_savings, current_price, policy, now)
    return hold


def check_api_command(
    inp: DecisionInput, target_mode: Mode, target_pool_id: str | None, policy: PolicyDocument, now: datetime
) -> None:
    """§6.6 / A14: an ``api`` switch passes G1-G3 (409) and DP-7 conditions 1, 2, 4, 5 for its target (422)."""
    hold = limit_guard(inp, now)
    if hold is not None:
        raise RuleConflictError(
            f"Switch refused: {hold.reason.value}", code=hold.reason.value, retry_after=hold.retry_after
        )
    if target_mode is not Mode.SPOT:
        return
    if target_pool_id is None:
        raise InvalidValueError("target_pool_id", "is required when target_mode is spot")
    verdict = _api_target_verdict(inp, target_pool_id, policy, now)
    if verdict is not Verdict.ELIGIBLE:
        raise UnusableTargetError(
            f"Target pool is not usable: {verdict.value}", code=verdict.value, pool_id=target_pool_id
        )


def _api_target_verdict(inp: DecisionInput, target_pool_id: str, policy: PolicyDocument, now: datetime) -> Verdict:
    pool = inp.pool(target_pool_id)
    if pool is not None:
        return eligibility_verdict(pool, inp, None, policy=policy, now=now, checked=API_CONDITIONS)
    # A pool missing from the catalogue was never listed by an agent: unavailable unless it is foreign.
    parsed = PoolId.parse(target_pool_id)
    if parsed.instance_type != inp.instance_type or parsed.region != inp.region:
        return Verdict.OTHER_TYPE_OR_REGION
    return Verdict.UNAVAILABLE
