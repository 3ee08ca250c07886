from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.pricing.buckets import CleanPriceBucket, DataSource, InterpolationMethod
from spotopt.domain.pricing.market import OnDemandPrice
from spotopt.domain.pricing.price_in_effect import decision_price, latest_bucket, ledger_price, ondemand_in_effect
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.pools import PoolId

POOL = "t3.medium.us-east-1a"
OTHER_POOL = "t3.medium.us-east-1b"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def make_bucket(start: datetime = T0, price: str = "0.012000", pool: str = POOL, **overrides: Any) -> CleanPriceBucket:
    values: dict[str, Any] = {
        "pool_id": pool,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": pool.rsplit(".", 1)[1],
        "bucket_start": start,
        "spot_price": Decimal(price),
        "source_type": SourceType.PRIMARY,
        "confidence": Decimal("1.00"),
        "data_source": DataSource.MEASURED,
        "created_at": start,
        "updated_at": start,
    }
    values.update(overrides)
    return CleanPriceBucket(**values)


def make_interpolated(start: datetime = T0, confidence: str = "0.70", **overrides: Any) -> CleanPriceBucket:
    return make_bucket(
        start,
        source_type=SourceType.INTERPOLATED,
        confidence=Decimal(confidence),
        data_source=DataSource.INTERPOLATED,
        interpolation_method=InterpolationMethod.CROSS_POOL,
        fill_id="fill-1",
        observation_count=0,
        **overrides,
    )


def make_ondemand(**overrides: Any) -> OnDemandPrice:
    values: dict[str, Any] = {
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "price": Decimal("0.041600"),
        "source": "agent",
        "observed_at": T0,
    }
    values.update(overrides)
    return OnDemandPrice(**values)


# --- PR-23 ----------------------------------------------------------------------------------------------------------


def test_pr23_price_in_effect_is_the_latest_bucket_starting_at_or_before_t() -> None:
    buckets = [
        make_bucket(T0, "0.010000"),
        make_bucket(T0 + timedelta(minutes=5), "0.011000"),
        make_bucket(T0 + timedelta(minutes=10), "0.012000"),
        make_bucket(T0 + timedelta(minutes=5), "0.099000", pool=OTHER_POOL),
    ]
    found = latest_bucket(buckets, POOL, T0 + timedelta(minutes=9, seconds=59))
    assert found is not None
    assert found.spot_price == Decimal("0.011000")
    assert latest_bucket(buckets, POOL, T0 - timedelta(seconds=1)) is None


def test_pr23_interpolated_buckets_count_and_are_marked_as_such() -> None:
    price = decision_price(
        [make_bucket(T0), make_interpolated(T0 + timedelta(minutes=5))], POOL, T0 + timedelta(minutes=6)
    )
    assert price is not None
    assert (price.bucket_start, price.interpolated, price.confidence) == (
        T0 + timedelta(minutes=5),
        True,
        Decimal("0.70"),
    )


def test_pr23_pool_may_be_given_as_a_pool_id_value() -> None:
    assert decision_price([make_bucket()], PoolId.parse(POOL), T0) is not None


# --- PR-24 ----------------------------------------------------------------------------------------------------------


def test_pr24_decision_price_is_usable_at_exactly_15_minutes() -> None:
    price = decision_price([make_bucket()], POOL, T0 + timedelta(minutes=15))
    assert price is not None
    assert (price.price, price.age, price.flags) == (Decimal("0.012000"), timedelta(minutes=15), frozenset())


def test_pr24_pool_is_unpriced_for_decisions_beyond_15_minutes() -> None:
    assert decision_price([make_bucket()], POOL, T0 + timedelta(minutes=15, microseconds=1)) is None


def test_pr24_confidence_of_exactly_070_is_usable_below_is_not() -> None:
    assert decision_price([make_interpolated(confidence="0.70")], POOL, T0) is not None
    assert decision_price([make_interpolated(confidence="0.69")], POOL, T0) is None


def test_pr24_an_unusable_latest_bucket_leaves_the_pool_unpriced_without_falling_back() -> None:
    buckets = [make_bucket(T0), make_interpolated(T0 + timedelta(minutes=5), confidence="0.60")]
    assert decision_price(buckets, POOL, T0 + timedelta(minutes=6)) is None


def test_pr24_no_bucket_means_unpriced() -> None:
    assert decision_price([make_bucket(pool=OTHER_POOL)], POOL, T0) is None


# --- PR-25 ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "carried_forward"),
    [
        (timedelta(0), False),
        (timedelta(minutes=15), False),
        (timedelta(minutes=15, microseconds=1), True),
        (timedelta(hours=6), True),
    ],
)
def test_pr25_ledger_price_is_usable_up_to_6_hours_and_carried_forward_after_15_minutes(
    age: timedelta, carried_forward: bool
) -> None:
    price = ledger_price([make_bucket()], POOL, T0 + age)
    assert price is not None
    assert price.carried_forward is carried_forward
    assert ("carried_forward" in price.flags) is carried_forward


def test_pr25_ledger_price_older_than_6_hours_is_unknown() -> None:
    assert ledger_price([make_bucket()], POOL, T0 + timedelta(hours=6, microseconds=1)) is None


def test_pr25_ledger_accepts_a_low_confidence_bucket_decisions_refuse() -> None:
    buckets = [make_interpolated(confidence="0.60")]
    assert ledger_price(buckets, POOL, T0) is not None
    assert decision_price(buckets, POOL, T0) is None


@given(st.integers(min_value=0, max_value=8 * 3600))
def test_pitfall9_a_decision_price_is_always_a_ledger_price_without_carry_forward(age_seconds: int) -> None:
    t = T0 + timedelta(seconds=age_seconds)
    decision = decision_price([make_bucket()], POOL, t)
    ledger = ledger_price([make_bucket()], POOL, t)
    if decision is not None:
        assert ledger == decision
    assert (decision is not None) == (age_seconds <= 15 * 60)
    assert (ledger is not None) == (age_seconds <= 6 * 3600)


# --- PR-26 ----------------------------------------------------------------------------------------------------------


def test_pr26_ondemand_price_does_not_age_out_but_is_stale_after_30_days() -> None:
    fresh = ondemand_in_effect(make_ondemand(), T0 + timedelta(days=30))
    stale = ondemand_in_effect(make_ondemand(), T0 + timedelta(days=30, microseconds=1))
    ancient = ondemand_in_effect(make_ondemand(), T0 + timedelta(days=3650))

    assert fresh is not None
    assert stale is not None
    assert ancient is not None
    assert (fresh.price, fresh.stale, fresh.flags) == (Decimal("0.041600"), False, frozenset())
    assert (stale.stale, stale.flags) == (True, frozenset({"stale"}))
    assert ancient.price == Decimal("0.041600")


def test_pr31_no_catalogue_entry_means_the_ondemand_price_is_unknown() -> None:
    assert ondemand_in_effect(None, T0) is None
