from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.pricing.aggregation import aggregate, fold_submission
from spotopt.domain.pricing.buckets import (
    CleanPriceBucket,
    DataSource,
    InterpolationMethod,
    SubmissionOutcome,
    bucket_start,
    savings_percent,
)
from spotopt.domain.pricing.market import PricingSubmission
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId

POOL = "t3.medium.us-east-1a"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
NOW = datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
MEASURED_SOURCES = [s for s in SourceType if s is not SourceType.INTERPOLATED]


def make_submission(**overrides: Any) -> PricingSubmission:
    values: dict[str, Any] = {
        "submission_id": "sub-1",
        "pool_id": POOL,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "spot_price": Decimal("0.012000"),
        "observed_at": T0 + timedelta(minutes=1),
        "received_at": T0 + timedelta(minutes=1, seconds=30),
        "source_type": SourceType.PRIMARY,
        "agent_id": AgentId("agent-1"),
        "instance_id": InstanceId("i-0123456789abcdef0"),
        "client_id": ClientId("client-1"),
        "report_id": "report-1",
        "is_valid": True,
        "ondemand_price": Decimal("0.041600"),
    }
    values.update(overrides)
    return PricingSubmission(**values)


def make_bucket(**overrides: Any) -> CleanPriceBucket:
    values: dict[str, Any] = {
        "pool_id": POOL,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "bucket_start": T0,
        "spot_price": Decimal("0.012000"),
        "source_type": SourceType.SECONDARY,
        "confidence": SourceType.SECONDARY.confidence,
        "data_source": DataSource.MEASURED,
        "created_at": T0,
        "updated_at": T0,
        "source_submission_id": "sub-0",
    }
    values.update(overrides)
    return CleanPriceBucket(**values)


def make_interpolated_bucket(**overrides: Any) -> CleanPriceBucket:
    values: dict[str, Any] = {
        "source_type": SourceType.INTERPOLATED,
        "confidence": Decimal("0.85"),
        "data_source": DataSource.INTERPOLATED,
        "interpolation_method": InterpolationMethod.LINEAR,
        "fill_id": "fill-1",
        "observation_count": 0,
        "source_submission_id": None,
    }
    values.update(overrides)
    return make_bucket(**values)


def no_catalogue(instance_type: str, region: str, at: datetime) -> Decimal | None:
    return None


def snapshot(bucket: CleanPriceBucket) -> tuple[object, ...]:
    return dataclasses.astuple(bucket)


# --- PR-10 / MD-2 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        (datetime(2024, 5, 1, 10, 0, tzinfo=UTC), datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        (datetime(2024, 5, 1, 10, 4, 59, 999999, tzinfo=UTC), datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        (datetime(2024, 5, 1, 10, 5, tzinfo=UTC), datetime(2024, 5, 1, 10, 5, tzinfo=UTC)),
        (datetime(2024, 5, 1, 12, 7, tzinfo=timezone(timedelta(hours=2))), datetime(2024, 5, 1, 10, 5, tzinfo=UTC)),
    ],
)
def test_pr10_bucket_start_floors_to_a_300_second_multiple_in_utc(observed: datetime, expected: datetime) -> None:
    assert bucket_start(observed) == expected
    assert bucket_start(observed).utcoffset() == timedelta(0)


# hypothesis takes naive bounds and attaches the timezone itself
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))  # noqa: DTZ001
def test_pr10_md2_bucket_covers_its_observation_and_starts_on_the_epoch_grid(observed: datetime) -> None:
    start = bucket_start(observed)
    assert start <= observed < start + timedelta(seconds=300)
    assert (start - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() % 300 == 0


def test_pr10_bucket_end_is_start_plus_299_seconds_for_display() -> None:
    assert make_bucket().bucket_end == T0 + timedelta(seconds=299)


def test_md2_bucket_off_the_grid_is_rejected() -> None:
    with pytest.raises(InvalidValueError):
        make_bucket(bucket_start=T0 + timedelta(seconds=1))


def test_md2_buckets_are_identified_by_pool_and_start() -> None:
    assert make_bucket(spot_price=Decimal("0.5")) == make_bucket()
    assert make_bucket(bucket_start=T0 + timedelta(minutes=5)) != make_bucket()


def test_md4_interpolated_bucket_needs_confidence_below_095() -> None:
    with pytest.raises(InvalidValueError):
        make_interpolated_bucket(confidence=Decimal("0.95"))


# --- merge table ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", MEASURED_SOURCES)
def test_pr12_merge_no_bucket_inserts_a_measured_bucket_with_the_source_confidence(source: SourceType) -> None:
    result = fold_submission(None, make_submission(source_type=source), None, NOW)

    assert result.outcome is SubmissionOutcome.ACCEPTED
    bucket = result.bucket
    assert (bucket.pool_id, bucket.bucket_start, bucket.spot_price) == (POOL, T0, Decimal("0.012000"))
    assert bucket.data_source is DataSource.MEASURED
    assert (bucket.source_type, bucket.confidence) == (source, source.confidence)
    assert (bucket.source_submission_id, bucket.source_agent_id) == ("sub-1", "agent-1")
    assert bucket.source_instance_id == "i-0123456789abcdef0"
    assert (bucket.observation_count, bucket.discrepancy, bucket.created_at, bucket.updated_at) == (1, False, NOW, NOW)
    assert result.invalidated_fill_id is None


def test_pr12_merge_interpolated_bucket_is_replaced_and_labelled_like_a_fresh_measurement_md3() -> None:
    existing = make_interpolated_bucket(spot_price=Decimal("0.050000"))
    submission = make_submission(source_type=SourceType.SECONDARY)

    result = fold_submission(existing, submission, None, NOW)

    assert result.outcome is SubmissionOutcome.REPLACED
    assert result.invalidated_fill_id == "fill-1"
    fresh = fold_submission(None, submission, None, NOW).bucket
    replaced = result.bucket
    assert (replaced.spot_price, replaced.ondemand_price, replaced.savings_percent) == (
        fresh.spot_price,
        fresh.ondemand_price,
        fresh.savings_percent,
    )
    assert (replaced.source_type, replaced.confidence, replaced.data_source) == (
        SourceType.SECONDARY,
        Decimal("0.90"),
        DataSource.MEASURED,
    )
    assert (replaced.interpolation_method, replaced.fill_id, replaced.source_submission_id) == (None, None, "sub-1")
    assert not result.discrepancy_detected, "an interpolated price is no measurement to disagree with"
    assert existing.data_source is DataSource.INTERPOLATED, "the input bucket is left untouched"


def test_pr12_merge_lower_priority_measured_bucket_is_replaced_by_a_higher_priority_submission() -> None:
    existing = make_bucket(source_type=SourceType.SECONDARY, confidence=Decimal("0.90"), observation_count=2)

    result = fold_submission(existing, make_submission(spot_price=Decimal("0.012100")), None, NOW)

    assert result.outcome is SubmissionOutcome.REPLACED
    assert (result.bucket.spot_price, result.bucket.source_type) == (Decimal("0.012100"), SourceType.PRIMARY)
    assert (result.bucket.confidence, result.bucket.source_submission_id) == (Decimal("1.00"), "sub-1")
    assert (result.bucket.observation_count, result.bucket.created_at, result.bucket.updated_at) == (3, T0, NOW)
    assert result.invalidated_fill_id is None


def test_pr12_merge_same_priority_keeps_the_first_received_and_counts_the_observation() -> None:
    existing = make_bucket(spot_price=Decimal("0.012000"))

    result = fold_submission(
        existing, make_submission(source_type=SourceType.SECONDARY, spot_price=Decimal("0.0125")), None, NOW
    )

    assert result.outcome is SubmissionOutcome.KEPT_EXISTING
    assert (result.bucket.spot_price, result.bucket.source_submission_id) == (Decimal("0.012000"), "sub-0")
    assert (result.bucket.observation_count, result.bucket.updated_at) == (2, NOW)
    assert not result.discrepancy_detected


def test_pr12_merge_higher_priority_bucket_keeps_its_price_against_a_lower_priority_submission() -> None:
    existing = make_bucket(source_type=SourceType.REPLICA_MANUAL, confidence=Decimal("0.95"))

    result = fold_submission(existing, make_submission(source_type=SourceType.SECONDARY), None, NOW)

    assert result.outcome is SubmissionOutcome.SUPERSEDED_LOWER_PRIORITY
    assert (result.bucket.source_type, result.bucket.source_submission_id) == (SourceType.REPLICA_MANUAL, "sub-0")
    assert result.bucket.observation_count == 2


def test_pr12_only_valid_submissions_are_folded() -> None:
    with pytest.raises(InvalidValueError):
        fold_submission(None, make_submission(is_valid=False), None, NOW)


def test_pr12_a_submission_of_another_bucket_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        fold_submission(make_bucket(), make_submission(observed_at=T0 + timedelta(minutes=5)), None, NOW)


# --- PR-13 ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "outcome"),
    [
        (SourceType.SECONDARY, SubmissionOutcome.KEPT_EXISTING),
        (SourceType.PRIMARY, SubmissionOutcome.REPLACED),
    ],
)
def test_pr13_a_price_more_than_10_percent_away_flags_the_bucket_whatever_the_outcome(
    source: SourceType, outcome: SubmissionOutcome
) -> None:
    existing = make_bucket(spot_price=Decimal("0.010000"))
    submission = make_submission(source_type=source, spot_price=Decimal("0.011001"))

    result = fold_submission(existing, submission, None, NOW)

    assert result.outcome is outcome
    assert result.bucket.discrepancy is True
    assert result.discrepancy is not None
    assert (result.discrepancy.kept_price, result.discrepancy.observed_price) == (
        Decimal("0.010000"),
        Decimal("0.011001"),
    )
    assert result.bucket.spot_price in {Decimal("0.010000"), Decimal("0.011001")}, "values are never averaged"


def test_pr13_exactly_10_percent_is_no_discrepancy() -> None:
    result = fold_submission(
        make_bucket(spot_price=Decimal("0.010000")),
        make_submission(source_type=SourceType.SECONDARY, spot_price=Decimal("0.011000")),
        None,
        NOW,
    )
    assert not result.discrepancy_detected
    assert result.bucket.discrepancy is False


def test_pr13_discrepancy_flag_survives_a_later_replacement() -> None:
    existing = make_bucket(discrepancy=True)
    result = fold_submission(existing, make_submission(spot_price=Decimal("0.012000")), None, NOW)
    assert result.bucket.discrepancy is True


def test_pr13_discrepancy_event_is_a_warning_deduplicated_per_pool_and_hour() -> None:
    result = fold_submission(make_bucket(), make_submission(spot_price=Decimal("0.02")), None, NOW)
    assert result.discrepancy is not None
    event = result.discrepancy.to_event()
    assert (event.type, event.severity.value) == ("price_discrepancy", "warning")
    later = dataclasses.replace(result.discrepancy, bucket_start=T0 + timedelta(minutes=55))
    assert later.dedup_key == result.discrepancy.dedup_key
    assert dataclasses.replace(result.discrepancy, bucket_start=T0 + timedelta(hours=1)).dedup_key != later.dedup_key


@given(
    kept=st.integers(min_value=1, max_value=10**6),
    new=st.integers(min_value=1, max_value=10**6),
    source=st.sampled_from(MEASURED_SOURCES),
)
def test_pr13_folding_never_averages_prices(kept: int, new: int, source: SourceType) -> None:
    existing = make_bucket(spot_price=Decimal(kept).scaleb(-6))
    result = fold_submission(
        existing, make_submission(source_type=source, spot_price=Decimal(new).scaleb(-6)), None, NOW
    )
    assert result.bucket.spot_price in {Decimal(kept).scaleb(-6), Decimal(new).scaleb(-6)}
    assert result.discrepancy_detected == (abs(new - kept) * 10 > kept)


# --- PR-14 ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spot", "ondemand", "expected"),
    [
        ("0.012000", "0.041600", "71.15"),
        ("0.050000", "0.041600", "-20.19"),
        ("0.998750", "1", "0.12"),
        ("0.997500", "1", "0.25"),
        ("0.012000", None, None),
    ],
)
def test_pr14_savings_percent_rounds_half_to_even_may_be_negative_and_is_null_when_unknown(
    spot: str, ondemand: str | None, expected: str | None
) -> None:
    result = savings_percent(Decimal(spot), None if ondemand is None else Decimal(ondemand))
    assert result == (None if expected is None else Decimal(expected))


def test_pr14_submission_on_demand_price_wins_over_the_catalogue() -> None:
    result = fold_submission(None, make_submission(ondemand_price=Decimal("0.04")), Decimal("0.08"), NOW)
    assert (result.bucket.ondemand_price, result.bucket.savings_percent) == (Decimal("0.04"), Decimal("70.00"))


def test_pr14_catalogue_price_in_effect_at_bucket_start_is_used_without_a_valid_submission_price() -> None:
    seen: list[tuple[str, str, datetime]] = []

    def catalogue(instance_type: str, region: str, at: datetime) -> Decimal | None:
        seen.append((instance_type, region, at))
        return Decimal("0.08")

    result = aggregate([make_submission(ondemand_price=None)], [], catalogue, NOW)

    assert seen == [("t3.medium", "us-east-1", T0)]
    assert (result.buckets[0].ondemand_price, result.buckets[0].savings_percent) == (Decimal("0.08"), Decimal("85.00"))


def test_pr14_md5_unknown_on_demand_leaves_savings_null() -> None:
    result = fold_submission(None, make_submission(ondemand_price=None), None, NOW)
    assert (result.bucket.ondemand_price, result.bucket.savings_percent) == (None, None)


# --- PR-12 aggregator -----------------------------------------------------------------------------------------------


def test_pr12_aggregator_folds_in_received_at_order_not_input_order() -> None:
    late = make_submission(submission_id="late", spot_price=Decimal("0.0121"), received_at=T0 + timedelta(minutes=3))
    early = make_submission(submission_id="early", spot_price=Decimal("0.0120"), received_at=T0 + timedelta(minutes=2))

    result = aggregate([late, early], [], no_catalogue, NOW)

    assert [b.source_submission_id for b in result.buckets] == ["early"]
    assert result.outcomes == {"early": SubmissionOutcome.ACCEPTED, "late": SubmissionOutcome.KEPT_EXISTING}
    assert result.buckets[0].observation_count == 2


def test_pr12_aggregator_records_processed_at_and_outcome_on_each_submission_without_mutating_inputs() -> None:
    submission = make_submission()
    result = aggregate([submission], [], no_catalogue, NOW)

    assert [(s.submission_id, s.processed_at, s.outcome) for s in result.submissions] == [
        ("sub-1", NOW, SubmissionOutcome.ACCEPTED)
    ]
    assert (submission.processed_at, submission.outcome) == (None, None)


def test_pr12_folding_a_processed_submission_again_is_a_noop() -> None:
    processed = make_submission(processed_at=NOW, outcome="accepted")
    existing = make_bucket(source_submission_id="sub-1", source_type=SourceType.PRIMARY, confidence=Decimal("1.00"))

    result = aggregate([processed], [existing], no_catalogue, NOW)

    assert (result.buckets, result.submissions) == ((), ())


def test_pr12_invalid_submissions_are_not_folded() -> None:
    result = aggregate(
        [make_submission(is_valid=False, validation_flags=["price_out_of_range"])], [], no_catalogue, NOW
    )
    assert (result.buckets, result.submissions) == ((), ())


def test_md1_a_submission_id_given_twice_is_folded_once() -> None:
    result = aggregate([make_submission(), make_submission()], [], no_catalogue, NOW)
    assert len(result.submissions) == 1
    assert result.buckets[0].observation_count == 1


def test_pr21_aggregator_reports_each_interpolated_fill_it_breaks_once() -> None:
    existing = [
        make_interpolated_bucket(bucket_start=T0, fill_id="fill-9"),
        make_interpolated_bucket(bucket_start=T0 + timedelta(minutes=5), fill_id="fill-9"),
    ]
    submissions = [
        make_submission(submission_id="a", observed_at=T0),
        make_submission(submission_id="b", observed_at=T0 + timedelta(minutes=5)),
    ]

    result = aggregate(submissions, existing, no_catalogue, NOW)

    assert result.invalidated_fill_ids == ("fill-9",)
    assert all(b.is_measured and b.fill_id is None for b in result.buckets)


# --- properties -----------------------------------------------------------------------------------------------------

submission_specs = st.lists(
    st.tuples(
        st.sampled_from(["t3.medium.us-east-1a", "t3.medium.us-east-1b"]),
        st.integers(min_value=0, max_value=14),  # observed minute after T0
        st.integers(min_value=0, max_value=900),  # received second after the observation
        st.sampled_from(MEASURED_SOURCES),
        st.integers(min_value=1, max_value=100_000),  # price in micro-dollars
    ),
    max_size=25,
)


def build_submissions(specs: list[tuple[str, int, int, SourceType, int]]) -> list[PricingSubmission]:
    return [
        make_submission(
            submission_id=f"sub-{i}",
            pool_id=pool,
            az=pool.rsplit(".", 1)[1],
            observed_at=T0 + timedelta(minutes=minute),
            received_at=T0 + timedelta(minutes=minute, seconds=delay),
            source_type=source,
            spot_price=Decimal(price).scaleb(-6),
        )
        for i, (pool, minute, delay, source, price) in enumerate(specs)
    ]


@given(submission_specs, st.randoms(use_true_random=False))
def test_pr12_pr20_rerunning_the_aggregator_changes_nothing(
    specs: list[tuple[str, int, int, SourceType, int]], rnd: random.Random
) -> None:
    submissions = build_submissions(specs)
    first = aggregate(submissions, [], no_catalogue, NOW)

    shuffled = build_submissions(specs)
    rnd.shuffle(shuffled)
    again = aggregate(shuffled, [], no_catalogue, NOW)
    assert sorted(map(snapshot, again.buckets)) == sorted(map(snapshot, first.buckets))
    assert again.outcomes == first.outcomes

    rerun = aggregate([*first.submissions, *submissions], first.buckets, no_catalogue, NOW + timedelta(minutes=1))
    assert rerun.submissions == ()
    assert rerun.buckets == ()
    assert len(first.buckets) == len({(s.pool_id, bucket_start(s.observed_at)) for s in submissions})


@given(
    st.lists(st.sampled_from(MEASURED_SOURCES), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=100_000), min_size=8, max_size=8),
    st.randoms(use_true_random=False),
)
def test_md3_higher_priority_wins_whatever_the_arrival_order(
    sources: list[SourceType], prices: list[int], rnd: random.Random
) -> None:
    arrival = list(range(len(sources)))
    rnd.shuffle(arrival)
    submissions = [
        make_submission(
            submission_id=f"sub-{i}",
            source_type=source,
            spot_price=Decimal(prices[i]).scaleb(-6),
            received_at=T0 + timedelta(minutes=1, seconds=arrival[i]),
        )
        for i, source in enumerate(sources)
    ]

    (bucket,) = aggregate(submissions, [], no_catalogue, NOW).buckets

    best = max(s.source_type.priority for s in submissions)
    winner = min((s for s in submissions if s.source_type.priority == best), key=lambda s: s.received_at)
    assert bucket.source_type.priority == best
    assert (bucket.spot_price, bucket.source_submission_id) == (winner.spot_price, winner.submission_id)
    assert bucket.observation_count == len(submissions)


@given(
    st.sampled_from(MEASURED_SOURCES),
    st.integers(min_value=1, max_value=100_000),
    st.sampled_from(list(InterpolationMethod)),
)
def test_md3_a_measurement_always_supersedes_an_interpolated_bucket(
    source: SourceType, price: int, method: InterpolationMethod
) -> None:
    existing = make_interpolated_bucket(interpolation_method=method, confidence=Decimal("0.70"))
    result = fold_submission(
        existing, make_submission(source_type=source, spot_price=Decimal(price).scaleb(-6)), None, NOW
    )

    assert result.outcome is SubmissionOutcome.REPLACED
    assert result.bucket.is_measured
    assert result.bucket.spot_price == Decimal(price).scaleb(-6)
    assert (result.bucket.source_type, result.bucket.confidence) == (source, source.confidence)
    assert result.invalidated_fill_id == "fill-1"
