"""Price in effect (domain §4.4): two freshness regimes, kept apart on purpose (pitfall 9).

Decisions and replica placement use ``decision_price`` (15 min, confidence >= 0.70); the ledger uses
``ledger_price`` (6 h, ``carried_forward`` after 15 min). Never merge them into one function with flags.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.domain.pricing.buckets import CleanPriceBucket
from spotopt.domain.pricing.market import OnDemandPrice
from spotopt.domain.shared.pools import PoolId

DECISION_MAX_AGE = timedelta(minutes=15)
DECISION_MIN_CONFIDENCE = Decimal("0.70")
LEDGER_MAX_AGE = timedelta(hours=6)
CARRY_FORWARD_AFTER = timedelta(minutes=15)
ONDEMAND_STALE_AFTER = timedelta(days=30)

CARRIED_FORWARD = "carried_forward"
STALE = "stale"


@dataclass(frozen=True, slots=True)
class SpotPriceInEffect:
    """The clean bucket a consumer prices pool ``pool_id`` from at time ``at`` (PR-23)."""

    pool_id: str
    price: Decimal
    bucket_start: datetime
    confidence: Decimal
    interpolated: bool
    at: datetime
    flags: frozenset[str] = frozenset()

    @property
    def age(self) -> timedelta:
        return self.at - self.bucket_start

    @property
    def carried_forward(self) -> bool:
        return CARRIED_FORWARD in self.flags


@dataclass(frozen=True, slots=True)
class OnDemandInEffect:
    """PR-26: the catalogue's current on-demand price; ``stale`` after 30 days without an observation."""

    instance_type: str
    region: str
    price: Decimal
    observed_at: datetime
    stale: bool

    @property
    def flags(self) -> frozenset[str]:
        return frozenset({STALE}) if self.stale else frozenset()


def latest_bucket(buckets: Iterable[CleanPriceBucket], pool: str | PoolId, t: datetime) -> CleanPriceBucket | None:
    """PR-23: the latest clean bucket (measured or interpolated) of the pool with ``bucket_start <= t``."""
    pool_id = str(pool)
    candidates = (b for b in buckets if b.pool_id == pool_id and b.bucket_start <= t)
    return max(candidates, key=lambda b: b.bucket_start, default=None)


def _in_effect(bucket: CleanPriceBucket, t: datetime, flags: frozenset[str] = frozenset()) -> SpotPriceInEffect:
    return SpotPriceInEffect(
        pool_id=bucket.pool_id,
        price=bucket.spot_price,
        bucket_start=bucket.bucket_start,
        confidence=bucket.confidence,
        interpolated=not bucket.is_measured,
        at=t,
        flags=flags,
    )


def decision_price(buckets: Iterable[CleanPriceBucket], pool: str | PoolId, t: datetime) -> SpotPriceInEffect | None:
    """PR-24: usable for decisions and placement only if age <= 15 min and confidence >= 0.70; else unpriced."""
    bucket = latest_bucket(buckets, pool, t)
    if bucket is None or t - bucket.bucket_start > DECISION_MAX_AGE or bucket.confidence < DECISION_MIN_CONFIDENCE:
        return None
    return _in_effect(bucket, t)


def ledger_price(buckets: Iterable[CleanPriceBucket], pool: str | PoolId, t: datetime) -> SpotPriceInEffect | None:
    """PR-25: usable for the ledger up to 6 h old, flagged ``carried_forward`` beyond 15 min; older is unknown."""
    bucket = latest_bucket(buckets, pool, t)
    if bucket is None or t - bucket.bucket_start > LEDGER_MAX_AGE:
        return None
    carried = t - bucket.bucket_start > CARRY_FORWARD_AFTER
    return _in_effect(bucket, t, frozenset({CARRIED_FORWARD}) if carried else frozenset())


def ondemand_in_effect(current: OnDemandPrice | None, t: datetime) -> OnDemandInEffect | None:
    """PR-26/PR-31: the current price never ages out but is ``stale`` beyond 30 days; no entry means unknown."""
    if current is None:
        return None
    return OnDemandInEffect(
        instance_type=current.instance_type,
        region=current.region,
        price=current.price,
        observed_at=current.observed_at,
        stale=t - current.observed_at > ONDEMAND_STALE_AFTER,
    )
