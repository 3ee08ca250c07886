"""What a decision is made from (§6.2): triggers, motives, verdicts, counters and the input record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from spotopt.domain.agents.agent import Thresholds
from spotopt.domain.decisions.estimation import PoolSnapshot
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.pools import Mode

DAY = timedelta(hours=24)
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
