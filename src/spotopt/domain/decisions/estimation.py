"""Estimator port and the rule estimator (domain §6.1 DP-1/DP-2, §6.2 pool statistics, §6.8)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from spotopt.domain.decisions.policy import PolicyDocument, RuleEstimatorWeights
from spotopt.domain.shared.errors import InvalidValueError

RULE_CONFIDENCE = Decimal("0.60")
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class PoolStats:
    """§6.2 fleet statistics of a pool: distinct instances with a notice (``t*``) or a rebalance (``r*``)."""

    t24: int = 0
    t7: int = 0
    t30: int = 0
    r24: int = 0
    r7: int = 0
    last_notice_at: datetime | None = None
    exposure_hours_7d: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        # Nested windows: every instance counted in 24 h is also counted in 7 d and 30 d.
        if not 0 <= self.t24 <= self.t7 <= self.t30:
            raise InvalidValueError("t24", "notice counts must satisfy 0 <= T24 <= T7 <= T30")
        if not 0 <= self.r24 <= self.r7:
            raise InvalidValueError("r24", "rebalance counts must satisfy 0 <= R24 <= R7")
        if self.exposure_hours_7d < 0:
            raise InvalidValueError("exposure_hours_7d", "must be >= 0")


@dataclass(frozen=True, slots=True)
class PoolHistory:
    """What the §6.9 model features need beyond the snapshot, all known at ``now``.

    ``measured`` holds the pool's PR-35 prices (measured, confidence >= 0.95, no discrepancy) by bucket start;
    ``instance_age_hours`` is set only for the pool of the instance being scored (candidate pools score 0).
    """

    measured: Mapping[datetime, Decimal] = field(default_factory=dict)
    ondemand_price: Decimal | None = None
    instance_age_hours: float | None = None

    def __post_init__(self) -> None:
        if self.ondemand_price is not None and self.ondemand_price <= 0:
            raise InvalidValueError("ondemand_price", "must be > 0")
        if self.instance_age_hours is not None and self.instance_age_hours < 0:
            raise InvalidValueError("instance_age_hours", "must be >= 0")


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """A catalogue pool at ``now``: availability (PR-33), price in effect (§4.4) and fleet statistics.

    ``history`` is read only for engines that need model features (§6.9); the rule estimator ignores it.
    """

    pool_id: str
    instance_type: str
    region: str
    az: str
    available: bool
    price: Decimal | None = None
    price_observed_at: datetime | None = None
    price_confidence: Decimal | None = None
    stats: PoolStats = field(default_factory=PoolStats)
    history: PoolHistory | None = None

    def __post_init__(self) -> None:
        if self.price is not None and self.price <= 0:
            raise InvalidValueError("price", "must be > 0")
        if self.price_confidence is not None and not 0 <= self.price_confidence <= 1:
            raise InvalidValueError("price_confidence", "must be between 0 and 1")

    def usable_price(self, policy: PolicyDocument, now: datetime) -> Decimal | None:
        """PR-24: the price in effect when usable for decisions, else None (the pool is unpriced)."""
        if self.price is None or not policy.is_decision_price_usable(
            self.price_observed_at, self.price_confidence, now
        ):
            return None
        return self.price

    def is_blocklisted(self, policy: PolicyDocument, now: datetime) -> bool:
        """DP-7 condition 5: a fleet termination notice in the pool within the blocklist window."""
        return policy.is_blocklisted(self.stats.last_notice_at, now)


@dataclass(frozen=True, slots=True)
class PoolEstimate:
    """DP-2 per-pool estimate; ``version`` names the risk model, ``price_version`` the price model if different."""

    pool_id: str
    risk: Decimal
    forecast_price: Decimal | None
    confidence: Decimal
    version: str
    price_version: str | None = None
    fallback_used: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.risk <= 1:
            raise InvalidValueError("risk", "must be between 0 and 1")
        if not 0 <= self.confidence <= 1:
            raise InvalidValueError("confidence", "must be between 0 and 1")
        if self.forecast_price is not None and self.forecast_price <= 0:
            raise InvalidValueError("forecast_price", "must be > 0")

    @property
    def price_model_version(self) -> str:
        return self.price_version or self.version


class Estimator(Protocol):
    """DP-2 estimator port: one estimate per pool of a batch (one instance type and region) at ``now``.

    Implementations never raise for a single pool; a pool they cannot score is scored by the rule
    estimator instead (DP-3) and marked ``fallback_used``.
    """

    def estimate(self, pools: Sequence[PoolSnapshot], now: datetime) -> dict[str, PoolEstimate]: ...


@dataclass(frozen=True, slots=True)
class RuleEstimator:
    """§6.8: the always-available estimator; pure and deterministic."""

    weights: RuleEstimatorWeights
    policy_version: str

    @classmethod
    def for_policy(cls, policy: PolicyDocument) -> RuleEstimator:
        return cls(weights=policy.rule_estimator, policy_version=policy.policy_version)

    @property
    def version(self) -> str:
        return f"rules-{self.policy_version}"

    def risk(self, stats: PoolStats) -> Decimal:
        """§6.8: ``min(1, base + t24·T24 + t7·(T7 - T24) + r24·R24)``."""
        w = self.weights
        score = w.base + w.t24 * stats.t24 + w.t7 * (stats.t7 - stats.t24) + w.r24 * stats.r24
        return min(_ONE, score)

    def estimate_one(self, pool: PoolSnapshot) -> PoolEstimate:
        # No change expected: the forecast is the price in effect (§6.8).
        return PoolEstimate(
            pool_id=pool.pool_id,
            risk=self.risk(pool.stats),
            forecast_price=pool.price,
            confidence=RULE_CONFIDENCE,
            version=self.version,
        )

    def estimate(self, pools: Sequence[PoolSnapshot], now: datetime) -> dict[str, PoolEstimate]:  # noqa: ARG002
        """DP-2 port method; ``now`` is unused because the statistics are already taken at ``now``."""
        return {pool.pool_id: self.estimate_one(pool) for pool in pools}
