"""Decision inputs and rules: eligibility (DP-7), ranking (§6.7) and execution guards (§6.6)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from spotopt.domain.agents import Thresholds
from spotopt.domain.errors import InvalidValueError, RuleConflictError, UnusableTargetError
from spotopt.domain.estimation import PoolEstimate, PoolSnapshot
from spotopt.domain.policy import PolicyDocument
from spotopt.domain.values import AgentId, Mode, PoolId

DAY = timedelta(hours=24)
MAX_CANDIDATES = 5
WEEK = timedelta(days=7)


class Trigger(StrEnum):
    EVALUATOR = "evaluator"
    DECIDE_REQUEST = "decide_request"
    RECOMMENDATION_REQUEST = "recommendation_request"


class Motive(StrEnum):
    NONE = "none"
    SAVINGS = "savings"
    RISK = "risk"
    RETURN_TO_SPOT = "return_to_spot"


class Verdict(StrEnum):
    """DP-7 verdicts, in the order the conditions are checked."""

    ELIGIBLE = "eligible"
    OTHER_TYPE_OR_REGION = "other_type_or_region"
    UNAVAILABLE = "unavailable"
    CURRENT_POOL = "current_pool"
    UNPRICED = "unpriced"
    RECENT_INTERRUPTION = "recent_interruption"
    RISK_ABOVE_THRESHOLD = "risk_above_threshold"


ALL_CONDITIONS = frozenset(Verdict) - {Verdict.ELIGIBLE}
# §6.6: an issue-switch request (A14) is checked against conditions 1, 2, 4 and 5; CM-1 handles the current pool.
API_CONDITIONS = frozenset(
    {Verdict.OTHER_TYPE_OR_REGION, Verdict.UNAVAILABLE, Verdict.UNPRICED, Verdict.RECENT_INTERRUPTION}
)


class ReasonCode(StrEnum):
    AGENT_DELETED = "agent_deleted"
    AGENT_DISABLED = "agent_disabled"
    EMERGENCY_IN_PROGRESS = "emergency_in_progress"
    SWITCH_IN_FLIGHT = "switch_in_flight"
    UNKNOWN_PLACEMENT = "unknown_placement"
    RISK_EXIT_TO_POOL = "risk_exit_to_pool"
    RISK_EXIT_TO_ONDEMAND = "risk_exit_to_ondemand"
    INSUFFICIENT_PRICE_DATA = "insufficient_price_data"
    NO_BETTER_POOL = "no_better_pool"
    CHEAPER_POOL = "cheaper_pool"
    BELOW_MIN_SAVINGS = "below_min_savings"
    NO_ELIGIBLE_SPOT_POOL = "no_eligible_spot_pool"
    RETURN_TO_SPOT = "return_to_spot"
    DAILY_LIMIT_REACHED = "daily_limit_reached"
    WEEKLY_LIMIT_REACHED = "weekly_limit_reached"
    COOLDOWN = "cooldown"
    MIN_POOL_DURATION = "min_pool_duration"
    AUTO_TERMINATE_OFF = "auto_terminate_off"
    INSUFFICIENT_PAYBACK = "insufficient_payback"


REASON_TEXT: dict[ReasonCode, str] = {
    ReasonCode.AGENT_DELETED: "The agent is deleted.",
    ReasonCode.AGENT_DISABLED: "The agent is disabled.",
    ReasonCode.EMERGENCY_IN_PROGRESS: "An interruption episode is open; emergency handling comes first.",
    ReasonCode.SWITCH_IN_FLIGHT: "A switch command is already pending or delivered.",
    ReasonCode.UNKNOWN_PLACEMENT: "The agent's current placement is unknown.",
    ReasonCode.RISK_EXIT_TO_POOL: "The current pool is at risk; moving to {target}.",
    ReasonCode.RISK_EXIT_TO_ONDEMAND: "The current pool is at risk and no spot pool is eligible; moving to on-demand.",
    ReasonCode.INSUFFICIENT_PRICE_DATA: "A price the decision needs is unknown or stale.",
    ReasonCode.NO_BETTER_POOL: "No other spot pool is eligible.",
    ReasonCode.CHEAPER_POOL: "{target} is {improvement}% cheaper than the current pool.",
    ReasonCode.BELOW_MIN_SAVINGS: "The best eligible pool {target} saves {improvement}%, below the minimum {minimum}%.",
    ReasonCode.NO_ELIGIBLE_SPOT_POOL: "No spot pool is eligible; staying on on-demand.",
    ReasonCode.RETURN_TO_SPOT: "{target} is {improvement}% cheaper than on-demand; returning to spot.",
    ReasonCode.DAILY_LIMIT_REACHED: "the daily limit of {per_day} switches is reached{until}.",
    ReasonCode.WEEKLY_LIMIT_REACHED: "the weekly limit of {per_week} switches is reached{until}.",
    ReasonCode.COOLDOWN: "the {cooldown}-minute cooldown after the last move lasts{until}.",
    ReasonCode.MIN_POOL_DURATION: "the current placement is younger than {min_hours} h{until}.",
    ReasonCode.AUTO_TERMINATE_OFF: "auto-terminate is off, so the old instance would keep running at cost.",
    ReasonCode.INSUFFICIENT_PAYBACK: "the saving does not pay back the overlap of old and new instance.",
}
LIMIT_REASONS = frozenset({ReasonCode.DAILY_LIMIT_REACHED, ReasonCode.WEEKLY_LIMIT_REACHED, ReasonCode.COOLDOWN})
VOLUNTARY_MOTIVES = frozenset({Motive.SAVINGS, Motive.RETURN_TO_SPOT})


@dataclass(frozen=True, slots=True)
class SwitchCounters:
    """§6.2 counters: non-emergency switch commands delivered in the window and not failed.

    ``delivered_at`` (optional) lists those deliveries within 7 days; it only serves ``retry_after``.
    """

    switches_24h: int = 0
    switches_7d: int = 0
    last_move_finished_at: datetime | None = None
    delivered_at: tuple[datetime, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.switches_24h <= self.switches_7d:
            raise InvalidValueError("switches_24h", "counts must satisfy 0 <= switches_24h <= switches_7d")

    @classmethod
    def from_history(
        cls, delivered_at: Iterable[datetime], last_move_finished_at: datetime | None, now: datetime
    ) -> SwitchCounters:
        week = tuple(sorted(t for t in delivered_at if now - t < WEEK))
        return cls(
            switches_24h=sum(1 for t in week if now - t < DAY),
            switches_7d=len(week),
            last_move_finished_at=last_move_finished_at,
            delivered_at=week,
        )

    def frees_at(self, window: timedelta, limit: int, now: datetime) -> datetime | None:
        """When enough counted deliveries have left ``window`` for one more switch (None if unknown or never)."""
        counted = [t for t in self.delivered_at if now - t < window]
        excess = len(counted) - limit
        if limit <= 0 or excess < 0:
            return None
        return counted[excess] + window


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """§6.2: the server-side facts of one decision (prices, blocklist and freshness are judged by the policy)."""

    agent_id: AgentId
    thresholds: Thresholds
    terminate_wait_seconds: int
    mode: Mode | None
    pool_id: str | None
    instance_type: str | None
    region: str | None
    az: str | None
    placement_since: datetime | None
    baseline: Decimal | None
    pools: tuple[PoolSnapshot, ...] = ()
    counters: SwitchCounters = field(default_factory=SwitchCounters)
    has_primary: bool = True
    deleted: bool = False
    enabled: bool = True
    auto_switch_enabled: bool = True
    auto_terminate_enabled: bool = True
    episode_open: bool = False
    switch_in_flight: bool = False
    placement_mismatch: bool = False
    trigger: Trigger = Trigger.EVALUATOR

    def __post_init__(self) -> None:
        if len({p.pool_id for p in self.pools}) != len(self.pools):
            raise InvalidValueError("pools", "pool ids must be unique")
        if self.terminate_wait_seconds < 0:
            raise InvalidValueError("terminate_wait_seconds", "must be >= 0")
        if self.baseline is not None and self.baseline <= 0:
            raise InvalidValueError("baseline", "must be > 0")

    @property
    def placement_known(self) -> bool:
        """§6.5 step 1: a primary with a known mode, type, region and (for spot) pool."""
        known_mode = self.mode in (Mode.SPOT, Mode.ONDEMAND)
        pool_ok = self.mode is not Mode.SPOT or self.pool_id is not None
        return self.has_primary and known_mode and pool_ok and bool(self.instance_type) and bool(self.region)

    def pool(self, pool_id: str | None) -> PoolSnapshot | None:
        return next((p for p in self.pools if p.pool_id == pool_id), None)


def eligibility_verdict(
    pool: PoolSnapshot,
    inp: DecisionInput,
    risk: Decimal | None,
    *,
    policy: PolicyDocument,
    now: datetime,
    checked: frozenset[Verdict] = ALL_CONDITIONS,
) -> Verdict:
    """DP-7: the first failing condition among ``checked``, or ``eligible``; an unscored pool fails condition 6."""
    conditions = (
        (Verdict.OTHER_TYPE_OR_REGION, pool.instance_type != inp.instance_type or pool.region != inp.region),
        (Verdict.UNAVAILABLE, not pool.available),
        (Verdict.CURRENT_POOL, inp.mode is Mode.SPOT and pool.pool_id == inp.pool_id),
        (Verdict.UNPRICED, pool.usable_price(policy, now) is None),
        (Verdict.RECENT_INTERRUPTION, pool.is_blocklisted(policy, now)),
        (Verdict.RISK_ABOVE_THRESHOLD, risk is None or risk > inp.thresholds.risk_threshold),
    )
    return next((v for v, fails in conditions if fails and v in checked), Verdict.ELIGIBLE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """§6.3: an evaluated pool with its DP-7 verdict."""

    pool_id: str
    price: Decimal | None
    forecast_price: Decimal | None
    risk: Decimal | None
    verdict: Verdict

    @property
    def eligible(self) -> bool:
        return self.verdict is Verdict.ELIGIBLE


@dataclass(frozen=True, slots=True)
class RankedPool:
    pool_id: str
    forecast: Decimal
    risk: Decimal
    t7: int


def best_pool(pools: Sequence[RankedPool], tie_tolerance_percent: Decimal) -> RankedPool | None:
    """§6.7: lowest forecast; forecasts within the tolerance tie and go by lower risk, lower T7, pool id."""
    if not pools:
        return None
    ceiling = min(p.forecast for p in pools) * (1 + tie_tolerance_percent / 100)
    return min((p for p in pools if p.forecast <= ceiling), key=lambda p: (p.risk, p.t7, p.pool_id))


def rank_pools(pools: Iterable[RankedPool], tie_tolerance_percent: Decimal) -> list[RankedPool]:
    """§6.7 applied repeatedly: the full ranking, best first (DP-4: independent of input order)."""
    remaining = list(pools)
    ranked: list[RankedPool] = []
    while (best := best_pool(remaining, tie_tolerance_percent)) is not None:
        ranked.append(best)
        remaining.remove(best)
    return ranked


def evaluate_pools(
    inp: DecisionInput, estimates: Mapping[str, PoolEstimate], policy: PolicyDocument, now: datetime
) -> tuple[tuple[Candidate, ...], tuple[RankedPool, ...]]:
    """DP-7 verdict for every pool, and the eligible pools ranked best first (§6.7)."""
    candidates: list[Candidate] = []
    eligible: list[RankedPool] = []
    for pool in inp.pools:
        est = estimates.get(pool.pool_id)
        risk = est.risk if est is not None else None
        forecast = est.forecast_price if est is not None else None
        verdict = eligibility_verdict(pool, inp, risk, policy=policy, now=now)
        candidates.append(Candidate(pool.pool_id, pool.price, forecast, risk, verdict))
        if verdict is Verdict.ELIGIBLE and risk is not None:
            # An eligible pool is priced, so the no-change forecast stands in when the estimator gave none.
            ranking_forecast = forecast or pool.usable_price(policy, now) or Decimal(0)
            eligible.append(RankedPool(pool.pool_id, ranking_forecast, risk, pool.stats.t7))
    return tuple(candidates), tuple(rank_pools(eligible, policy.tie_tolerance_percent))


def top_candidates(candidates: Sequence[Candidate], ranked: Sequence[RankedPool]) -> tuple[Candidate, ...]:
    """§6.3: up to 5 pools; eligible ones in ranking order first, then the others by forecast and pool id."""
    by_id = {c.pool_id: c for c in candidates}
    others = sorted(
        (c for c in candidates if not c.eligible),
        key=lambda c: (c.forecast_price is None, c.forecast_price or Decimal(0), c.pool_id),
    )
    return tuple(([by_id[r.pool_id] for r in ranked] + others)[:MAX_CANDIDATES])


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
