"""§6.9 model features, PR-35 – PR-37: one computation for training and serving."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.decisions.estimation import PoolHistory, PoolSnapshot, PoolStats
from spotopt.domain.decisions.features import (
    CATEGORICAL_FEATURES,
    POOL_FEATURES,
    PRICE_FEATURES,
    RISK_FEATURES,
    feature_rows,
    history_bucket_starts,
    history_from_buckets,
    qualifies_for_model,
)
from spotopt.domain.pricing.buckets import CleanPriceBucket, DataSource, InterpolationMethod
from spotopt.domain.pricing.sources import SourceType

# A Thursday, 10:07 UTC: the newest bucket starts at 10:05.
NOW = datetime(2026, 11, 26, 10, 7, tzinfo=UTC)
GRID = datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
D = Decimal


def snapshot(pool_id: str = "t3.medium.us-east-1a", history: PoolHistory | None = None, **kw: object) -> PoolSnapshot:
    az = pool_id.rpartition(".")[2]
    values: dict[str, object] = {
        "pool_id": pool_id,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": az,
        "available": True,
        "history": history,
    }
    values.update(kw)
    return PoolSnapshot(**values)  # type: ignore[arg-type]


def bucket(start: datetime, price: str, **kw: object) -> CleanPriceBucket:
    values: dict[str, object] = {
        "pool_id": "t3.medium.us-east-1a",
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "bucket_start": start,
        "spot_price": D(price),
        "source_type": SourceType.PRIMARY,
        "confidence": D("1.00"),
        "data_source": DataSource.MEASURED,
        "created_at": start,
        "updated_at": start,
    }
    values.update(kw)
    return CleanPriceBucket(**values)  # type: ignore[arg-type]


def test_the_canonical_orders_are_the_spec_table_and_the_risk_model_adds_the_instance_feature() -> None:
    assert POOL_FEATURES[:6] == ("instance_family", "instance_size", "region", "az", "hour_of_day", "day_of_week")
    assert (*POOL_FEATURES, "instance_age_hours") == RISK_FEATURES
    assert PRICE_FEATURES == POOL_FEATURES
    assert len(set(RISK_FEATURES)) == 23
    assert frozenset({"instance_family", "instance_size", "region", "az"}) == CATEGORICAL_FEATURES


def test_pr37_calendar_features_are_utc_hour_and_iso_weekday() -> None:
    sunday = datetime(2026, 11, 29, 23, 59, tzinfo=UTC)
    row = feature_rows([snapshot()], sunday)["t3.medium.us-east-1a"]
    assert (row["hour_of_day"], row["day_of_week"]) == (23.0, 7.0)
    assert row["instance_family"] == "t3"
    assert row["instance_size"] == "medium"


@pytest.mark.parametrize(
    ("overrides", "qualifies"),
    [
        ({}, True),
        ({"confidence": D("0.95"), "source_type": SourceType.REPLICA_MANUAL}, True),
        ({"discrepancy": True}, False),
        ({"confidence": D("0.90"), "source_type": SourceType.SECONDARY}, False),
        (
            {
                "confidence": D("0.85"),
                "source_type": SourceType.INTERPOLATED,
                "data_source": DataSource.INTERPOLATED,
                "interpolation_method": InterpolationMethod.LINEAR,
            },
            False,
        ),
    ],
)
def test_pr35_only_confident_measured_non_discrepant_buckets_feed_the_models(
    overrides: dict[str, object], qualifies: bool
) -> None:
    b = bucket(GRID, "0.010000", **overrides)
    assert qualifies_for_model(b) is qualifies
    history = history_from_buckets([b], ondemand_price=None)
    assert (GRID in history.measured) is qualifies


def test_pr36_changes_compare_the_anchor_with_the_bucket_exactly_one_six_and_24_hours_earlier() -> None:
    measured = {
        GRID: D("0.012"),
        GRID - timedelta(hours=1): D("0.010"),
        # Nothing at exactly -6 h: a bucket 5 minutes off must not stand in (by timestamp, never by row count).
        GRID - timedelta(hours=6, minutes=5): D("0.020"),
        GRID - timedelta(hours=24): D("0.016"),
    }
    history = PoolHistory(measured=measured, ondemand_price=D("0.040"))
    row = feature_rows([snapshot(history=history)], NOW)["t3.medium.us-east-1a"]
    assert row["spot_price"] == pytest.approx(0.012)
    assert row["price_change_1h"] == pytest.approx(0.2)
    assert row["price_change_6h"] is None
    assert row["price_change_24h"] == pytest.approx(-0.25)
    assert row["ondemand_price"] == pytest.approx(0.040)
    assert row["spot_to_ondemand_ratio"] == pytest.approx(0.3)


def test_the_anchor_is_the_newest_measured_bucket_within_15_minutes_else_every_price_feature_is_missing() -> None:
    stale = PoolHistory(measured={GRID - timedelta(minutes=20): D("0.012")}, ondemand_price=D("0.040"))
    row = feature_rows([snapshot(history=stale)], NOW)["t3.medium.us-east-1a"]
    assert row["spot_price"] is None
    assert row["spot_to_ondemand_ratio"] is None
    assert row["price_change_1h"] is None
    assert row["price_rank_in_region"] is None
    fresh = PoolHistory(measured={GRID - timedelta(minutes=10): D("0.012")})
    assert feature_rows([snapshot(history=fresh)], NOW)["t3.medium.us-east-1a"]["spot_price"] == pytest.approx(0.012)


def test_volatility_needs_twelve_measured_buckets_in_the_last_six_hours() -> None:
    prices = {GRID - timedelta(minutes=5 * k): D("0.010") if k % 2 else D("0.012") for k in range(11)}
    row = feature_rows([snapshot(history=PoolHistory(measured=prices))], NOW)["t3.medium.us-east-1a"]
    assert row["price_volatility_6h"] is None
    prices[GRID - timedelta(minutes=55)] = D("0.010")
    row = feature_rows([snapshot(history=PoolHistory(measured=prices))], NOW)["t3.medium.us-east-1a"]
    values = [float(p) for p in prices.values()]
    mean = sum(values) / len(values)
    cv = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) / mean
    assert row["price_volatility_6h"] == pytest.approx(cv)


def test_rank_and_peer_count_compare_the_priced_pools_of_the_batch() -> None:
    def priced(pool_id: str, price: str) -> PoolSnapshot:
        return snapshot(pool_id, PoolHistory(measured={GRID: D(price)}))

    pools = [
        priced("t3.medium.us-east-1a", "0.012"),
        priced("t3.medium.us-east-1b", "0.010"),
        priced("t3.medium.us-east-1c", "0.012"),
        snapshot("t3.medium.us-east-1d", PoolHistory()),
    ]
    rows = feature_rows(pools, NOW)
    assert [rows[p.pool_id]["price_rank_in_region"] for p in pools] == [2.0, 1.0, 2.0, None]
    assert {rows[p.pool_id]["peer_pool_count"] for p in pools} == {3.0}


def test_fleet_features_come_from_the_pool_statistics_and_hours_since_the_last_notice_are_capped() -> None:
    stats = PoolStats(t24=1, t7=2, t30=4, r24=1, r7=3, last_notice_at=NOW - timedelta(hours=5), exposure_hours_7d=D(30))
    row = feature_rows([snapshot(stats=stats)], NOW)["t3.medium.us-east-1a"]
    assert [row[k] for k in ("terminations_24h", "terminations_7d", "terminations_30d")] == [1.0, 2.0, 4.0]
    assert [row[k] for k in ("rebalances_24h", "rebalances_7d")] == [1.0, 3.0]
    assert row["hours_since_last_termination"] == pytest.approx(5.0)
    assert row["exposure_hours_7d"] == 30.0
    old = PoolStats(t30=1, t7=0, last_notice_at=NOW - timedelta(days=31))
    assert feature_rows([snapshot(stats=old)], NOW)["t3.medium.us-east-1a"]["hours_since_last_termination"] is None


def test_instance_age_is_the_scored_instances_and_zero_for_candidate_pools() -> None:
    own = snapshot("t3.medium.us-east-1a", PoolHistory(instance_age_hours=12.5))
    other = snapshot("t3.medium.us-east-1b", PoolHistory())
    rows = feature_rows([own, other], NOW)
    assert rows[own.pool_id]["instance_age_hours"] == 12.5
    assert rows[other.pool_id]["instance_age_hours"] == 0.0


def test_without_a_history_only_a_fresh_confident_snapshot_price_is_a_feature() -> None:
    confident = snapshot(price=D("0.012"), price_observed_at=GRID, price_confidence=D("1.00"))
    interpolated = snapshot(price=D("0.012"), price_observed_at=GRID, price_confidence=D("0.85"))
    assert feature_rows([confident], NOW)[confident.pool_id]["spot_price"] == pytest.approx(0.012)
    assert feature_rows([interpolated], NOW)[interpolated.pool_id]["spot_price"] is None


@given(minute=st.integers(min_value=0, max_value=24 * 60 - 1), second=st.integers(min_value=0, max_value=59))
def test_the_history_window_covers_every_bucket_a_feature_can_read(minute: int, second: int) -> None:
    """PR-36 completeness: whatever the anchor, the read window plus the exact 24 h starts hold all inputs."""
    now = datetime(2026, 11, 26, tzinfo=UTC) + timedelta(minutes=minute, seconds=second)
    start, newest, exact = history_bucket_starts(now)
    for k in range(4):
        anchor = newest - timedelta(minutes=5 * k)
        if now - anchor > timedelta(minutes=15):
            continue
        for offset in (timedelta(0), timedelta(hours=1), timedelta(hours=6)):
            assert start <= anchor - offset <= newest
        assert anchor - timedelta(hours=24) in exact
    assert start <= now - timedelta(hours=6)


@given(st.permutations(range(4)))
def test_rows_do_not_depend_on_the_order_of_the_pools(order: list[int]) -> None:
    pools = [snapshot(f"t3.medium.us-east-1{'abcd'[i]}", PoolHistory(measured={GRID: D(f"0.01{i}")})) for i in range(4)]
    baseline = feature_rows(pools, NOW)
    assert feature_rows([pools[i] for i in order], NOW) == baseline
