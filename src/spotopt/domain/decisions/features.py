"""The model features of §6.9: names, canonical order, and one computation shared by training and serving.

Every value is computed from data available at ``now`` only (PR-35 – PR-37). A missing value is ``None`` (the
frame turns it into NaN); categorical values are strings, numeric ones floats.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.domain.decisions.estimation import PoolHistory, PoolSnapshot, PoolStats
from spotopt.domain.pricing.buckets import BUCKET_WIDTH, CleanPriceBucket, bucket_start
from spotopt.domain.pricing.sources import SourceType

FeatureValue = float | str | None
FeatureRow = Mapping[str, FeatureValue]

POOL_FEATURES: tuple[str, ...] = (
    "instance_family",
    "instance_size",
    "region",
    "az",
    "hour_of_day",
    "day_of_week",
    "spot_price",
    "ondemand_price",
    "spot_to_ondemand_ratio",
    "price_change_1h",
    "price_change_6h",
    "price_change_24h",
    "price_volatility_6h",
    "price_rank_in_region",
    "peer_pool_count",
    "terminations_24h",
    "terminations_7d",
    "terminations_30d",
    "rebalances_24h",
    "rebalances_7d",
    "hours_since_last_termination",
    "exposure_hours_7d",
)
INSTANCE_FEATURES: tuple[str, ...] = ("instance_age_hours",)
# The canonical orders the trainer uses; a manifest may pin another order (or a subset) for uploaded models.
RISK_FEATURES: tuple[str, ...] = POOL_FEATURES + INSTANCE_FEATURES
PRICE_FEATURES: tuple[str, ...] = POOL_FEATURES
CATEGORICAL_FEATURES = frozenset({"instance_family", "instance_size", "region", "az"})
KNOWN_FEATURES = frozenset(RISK_FEATURES)

MODEL_CONFIDENCE_FLOOR = Decimal("0.95")
ANCHOR_MAX_AGE = timedelta(minutes=15)
VOLATILITY_WINDOW = timedelta(hours=6)
VOLATILITY_MIN_BUCKETS = 12
CHANGE_OFFSETS = {
    "price_change_1h": timedelta(hours=1),
    "price_change_6h": timedelta(hours=6),
    "price_change_24h": timedelta(hours=24),
}
TERMINATION_LOOKBACK = timedelta(days=30)
HOURS_SINCE_CAP = 720.0


def qualifies_for_model(bucket: CleanPriceBucket) -> bool:
    """PR-35: only measured, confident (>= 0.95), non-discrepant, non-secondary buckets feed the models."""
    return (
        bucket.is_measured
        and bucket.confidence >= MODEL_CONFIDENCE_FLOOR
        and not bucket.discrepancy
        and bucket.source_type is not SourceType.SECONDARY
    )


def history_from_buckets(
    buckets: Sequence[CleanPriceBucket], *, ondemand_price: Decimal | None, instance_age_hours: float | None = None
) -> PoolHistory:
    """A pool's history from its stored buckets; those that fail PR-35 are left out."""
    measured = {b.bucket_start: b.spot_price for b in buckets if qualifies_for_model(b)}
    return PoolHistory(measured=measured, ondemand_price=ondemand_price, instance_age_hours=instance_age_hours)


def history_bucket_starts(now: datetime) -> tuple[datetime, datetime, tuple[datetime, ...]]:
    """The buckets a history at ``now`` needs: ``[start, end]`` of one window plus a few exact older starts.

    The window covers the anchor candidates and the 6 h volatility window; the exact starts are the 24 h
    comparison buckets of every possible anchor (PR-36: by timestamp, never by row count).
    """
    newest = bucket_start(now)
    anchors = [newest - k * BUCKET_WIDTH for k in range(4) if now - (newest - k * BUCKET_WIDTH) <= ANCHOR_MAX_AGE]
    start = min(anchors[-1] - CHANGE_OFFSETS["price_change_6h"], now - VOLATILITY_WINDOW)
    return bucket_start(start), newest, tuple(a - CHANGE_OFFSETS["price_change_24h"] for a in anchors)


def feature_rows(pools: Sequence[PoolSnapshot], now: datetime) -> dict[str, dict[str, FeatureValue]]:
    """Every §6.9 feature (``RISK_FEATURES``) of every pool of one batch (one instance type and region) at ``now``.

    The rank and the peer count compare the pools of the batch that have an anchor price.
    """
    anchors = {p.pool_id: _anchor(p, now) for p in pools}
    priced = [a[1] for a in anchors.values() if a is not None]
    return {p.pool_id: _row(p, now, anchors[p.pool_id], priced) for p in pools}


def _anchor(pool: PoolSnapshot, now: datetime) -> tuple[datetime, Decimal] | None:
    """The measured price "at t": the newest PR-35 bucket no older than 15 min (PR-24's freshness)."""
    if pool.history is None:
        # Without a history only the snapshot's own bucket is known; 0.95 excludes interpolated and secondary.
        price, observed, confidence = pool.price, pool.price_observed_at, pool.price_confidence
        if price is None or observed is None or confidence is None or confidence < MODEL_CONFIDENCE_FLOOR:
            return None
        return (observed, price) if timedelta(0) <= now - observed <= ANCHOR_MAX_AGE else None
    newest = bucket_start(now)
    for k in range(4):
        start = newest - k * BUCKET_WIDTH
        if now - start <= ANCHOR_MAX_AGE and start in pool.history.measured:
            return start, pool.history.measured[start]
    return None


def _row(
    pool: PoolSnapshot, now: datetime, anchor: tuple[datetime, Decimal] | None, priced: list[Decimal]
) -> dict[str, FeatureValue]:
    family, _, size = pool.instance_type.partition(".")
    history = pool.history or PoolHistory()
    spot = float(anchor[1]) if anchor is not None else None
    ondemand = float(history.ondemand_price) if history.ondemand_price is not None else None
    row: dict[str, FeatureValue] = {
        "instance_family": family,
        "instance_size": size,
        "region": pool.region,
        "az": pool.az,
        "hour_of_day": float(now.hour),
        "day_of_week": float(now.isoweekday()),
        "spot_price": spot,
        "ondemand_price": ondemand,
        "spot_to_ondemand_ratio": spot / ondemand if spot is not None and ondemand else None,
    }
    for name, offset in CHANGE_OFFSETS.items():
        row[name] = _change(history.measured, anchor, offset)
    row["price_volatility_6h"] = _volatility(history.measured, now)
    row["price_rank_in_region"] = float(1 + sum(1 for p in priced if p < anchor[1])) if anchor is not None else None
    row["peer_pool_count"] = float(len(priced))
    row.update(_fleet(pool.stats, now))
    row["instance_age_hours"] = history.instance_age_hours or 0.0
    return row


def _change(
    measured: Mapping[datetime, Decimal], anchor: tuple[datetime, Decimal] | None, offset: timedelta
) -> float | None:
    """Relative change against the measured bucket exactly ``offset`` before the anchor (PR-36), else missing."""
    if anchor is None:
        return None
    before = measured.get(anchor[0] - offset)
    return None if before is None else float((anchor[1] - before) / before)


def _volatility(measured: Mapping[datetime, Decimal], now: datetime) -> float | None:
    """Coefficient of variation of the measured buckets of the last 6 h; missing with fewer than 12."""
    values = [float(p) for start, p in measured.items() if now - VOLATILITY_WINDOW < start <= now]
    if len(values) < VOLATILITY_MIN_BUCKETS:
        return None
    mean = statistics.fmean(values)
    return statistics.pstdev(values) / mean if mean > 0 else None


def _fleet(stats: PoolStats, now: datetime) -> dict[str, FeatureValue]:
    last = stats.last_notice_at
    since: float | None = None
    if last is not None and timedelta(0) <= now - last <= TERMINATION_LOOKBACK:
        since = min(HOURS_SINCE_CAP, (now - last).total_seconds() / 3600)
    return {
        "terminations_24h": float(stats.t24),
        "terminations_7d": float(stats.t7),
        "terminations_30d": float(stats.t30),
        "rebalances_24h": float(stats.r24),
        "rebalances_7d": float(stats.r7),
        "hours_since_last_termination": since,
        "exposure_hours_7d": float(stats.exposure_hours_7d),
    }
