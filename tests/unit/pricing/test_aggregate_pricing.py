"""The pricing aggregator use case (domain §4.2 PR-12 – PR-14, §4.3 PR-21, §7.2) over the in-memory fakes."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.pricing.aggregate_pricing import (
    AggregatePricing,
    AggregatePricingCommand,
    AggregatePricingResult,
)
from spotopt.application.pricing.fill_price_gaps import FillPriceGaps, FillPriceGapsCommand
from spotopt.domain.pricing.buckets import DataSource, SubmissionOutcome
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import new_id
from tests.factories.pricing import REGION, T0, TYPE, make_submission, pool, seed_measured
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork, InScope

NOW = T0 + timedelta(hours=1)
A, B = pool("a"), pool("b")


Sut = InScope[[AggregatePricingCommand], AggregatePricingResult]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def sut(uow: InMemoryUnitOfWork, clock: FixedClock) -> Sut:
    return InScope(AggregatePricing(uow, clock).execute, uow)


async def submit(uow: InMemoryUnitOfWork, *submissions: Any) -> None:
    await uow.pricing.add_submissions(list(submissions))
    await uow.commit_setup()


def snapshot(uow: InMemoryUnitOfWork) -> dict[str, Any]:
    return {
        "buckets": {k: copy.copy(vars_of(b)) for k, b in uow.store.buckets.items()},
        "submissions": {k: vars_of(s) for k, s in uow.store.submissions.items()},
        "records": {k: vars_of(r) for k, r in uow.store.interpolation_records.items()},
        "events": [(e.type, dict(e.metadata)) for e in uow.store.events],
    }


def vars_of(entity: Any) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in entity.__slots__}


async def test_pr12_folds_valid_submissions_into_buckets_and_records_the_outcome(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    first = make_submission(A, "0.0125", at=T0 + timedelta(seconds=10))
    same_bucket = make_submission(A, "0.0126", at=T0 + timedelta(seconds=70))
    other_pool = make_submission(B, "0.0118", at=T0 + timedelta(seconds=10))
    await submit(uow, first, same_bucket, other_pool)

    result = await sut.execute(AggregatePricingCommand())

    bucket = uow.store.buckets[(A, T0)]
    assert (bucket.spot_price, bucket.observation_count, bucket.source_submission_id) == (
        Decimal("0.0125"),
        2,
        first.submission_id,
    )
    assert bucket.data_source is DataSource.MEASURED
    assert uow.store.buckets[(B, T0)].spot_price == Decimal("0.0118")
    stored = uow.store.submissions
    assert (stored[first.submission_id].outcome, stored[same_bucket.submission_id].outcome) == (
        SubmissionOutcome.ACCEPTED,
        SubmissionOutcome.KEPT_EXISTING,
    )
    assert {s.processed_at for s in stored.values()} == {NOW}
    assert (result.processed, result.buckets_written, result.has_more) == (3, 2, False)
    assert result.outcomes == {"accepted": 2, "kept_existing": 1}
    assert uow.commits == 1


async def test_pr12_folds_in_received_at_order_not_insertion_order(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    late = make_submission(A, "0.0125", at=T0, received_at=T0 + timedelta(seconds=50))
    early = make_submission(A, "0.0124", at=T0 + timedelta(seconds=30), received_at=T0 + timedelta(seconds=40))
    await submit(uow, late, early)

    await sut.execute(AggregatePricingCommand())

    assert uow.store.buckets[(A, T0)].source_submission_id == early.submission_id, "the first received is kept"


async def test_pr12_higher_priority_replaces_and_lower_priority_is_kept_out(
    uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock
) -> None:
    await submit(uow, make_submission(A, "0.0130", source_type=SourceType.SECONDARY))
    await sut.execute(AggregatePricingCommand())
    primary = make_submission(A, "0.0125", received_at=T0 + timedelta(seconds=5))
    manual = make_submission(A, "0.0126", source_type=SourceType.REPLICA_MANUAL, received_at=T0 + timedelta(seconds=9))
    await submit(uow, primary, manual)
    clock.advance(minutes=1)

    await sut.execute(AggregatePricingCommand())

    bucket = uow.store.buckets[(A, T0)]
    assert (bucket.spot_price, bucket.source_type, bucket.confidence) == (
        Decimal("0.0125"),
        SourceType.PRIMARY,
        Decimal("1.00"),
    )
    assert bucket.observation_count == 3
    assert uow.store.submissions[primary.submission_id].outcome == SubmissionOutcome.REPLACED
    assert uow.store.submissions[manual.submission_id].outcome == SubmissionOutcome.SUPERSEDED_LOWER_PRIORITY


async def test_pr12_invalid_and_processed_submissions_are_never_folded(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    invalid = make_submission(A, "0", is_valid=False, validation_flags=["price_out_of_range"])
    done = make_submission(B, "0.0118", processed_at=T0, outcome="accepted")
    await submit(uow, invalid, done)

    result = await sut.execute(AggregatePricingCommand())

    assert result.processed == 0
    assert not uow.store.buckets
    assert (invalid.processed_at, invalid.outcome) == (None, None), "raw submissions are never touched otherwise"
    assert uow.commits == 0


async def test_pr12_rerunning_changes_nothing(uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock) -> None:
    await submit(
        uow,
        make_submission(A, "0.0125"),
        make_submission(A, "0.0200", received_at=T0 + timedelta(seconds=1)),
        make_submission(B, "0.0118"),
    )
    await sut.execute(AggregatePricingCommand())
    before = snapshot(uow)
    clock.advance(minutes=1)

    again = await sut.execute(AggregatePricingCommand())

    assert snapshot(uow) == before
    assert again.processed == 0


async def test_jb5_a_run_is_bounded_and_the_next_continues_with_the_oldest(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    subs = [make_submission(A, "0.0125", at=T0 + timedelta(minutes=5 * i)) for i in range(5)]
    await submit(uow, *reversed(subs))

    first = await sut.execute(AggregatePricingCommand(batch_size=2))
    assert (first.processed, first.has_more) == (2, True)
    assert {s.submission_id for s in uow.store.submissions.values() if s.processed_at} == {
        subs[0].submission_id,
        subs[1].submission_id,
    }
    second = await sut.execute(AggregatePricingCommand(batch_size=2))
    third = await sut.execute(AggregatePricingCommand(batch_size=2))
    assert (second.processed, third.processed, third.has_more) == (2, 1, False)
    assert len(uow.store.buckets) == 5


async def test_reconciliation_only_considers_the_last_two_hours(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    old = make_submission(A, "0.0125", at=NOW - timedelta(hours=3))
    recent = make_submission(B, "0.0118", at=NOW - timedelta(minutes=30))
    await submit(uow, old, recent)

    result = await sut.execute(AggregatePricingCommand.reconciliation(NOW))

    assert result.processed == 1
    assert uow.store.submissions[old.submission_id].processed_at is None


async def test_pr13_discrepancy_flags_the_bucket_and_emits_one_warning_per_pool_per_hour(
    uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock
) -> None:
    kept = make_submission(A, "0.0100")
    off = make_submission(A, "0.0111", received_at=T0 + timedelta(seconds=1))
    await submit(uow, kept, off, make_submission(A, "0.0100", at=T0 + timedelta(minutes=5)))
    await sut.execute(AggregatePricingCommand())

    assert uow.store.buckets[(A, T0)].discrepancy
    assert uow.store.buckets[(A, T0)].spot_price == Decimal("0.0100"), "never averaged"
    assert not uow.store.buckets[(A, T0 + timedelta(minutes=5))].discrepancy
    [event] = [e for e in uow.store.events if e.type == "price_discrepancy"]
    assert (event.severity.value, event.metadata["pool_id"]) == ("warning", A)

    same_hour = make_submission(A, "0.0150", at=T0 + timedelta(minutes=5), received_at=T0 + timedelta(minutes=6))
    next_hour = make_submission(A, "0.0100", at=T0 + timedelta(hours=1))
    next_hour_off = make_submission(
        A, "0.0200", at=T0 + timedelta(hours=1), received_at=T0 + timedelta(hours=1, seconds=5)
    )
    await submit(uow, same_hour, next_hour, next_hour_off)
    clock.advance(hours=1)
    await sut.execute(AggregatePricingCommand())

    assert uow.store.buckets[(A, T0 + timedelta(minutes=5))].discrepancy
    assert uow.event_types().count("price_discrepancy") == 2, "one more for the next hour only"


async def _catalogue(uow: InMemoryUnitOfWork, *observations: tuple[str, timedelta, bool]) -> None:
    """Observations at ``T0 + offset``; the current price is the latest valid one (as ingestion keeps it)."""
    for price, offset, valid in observations:
        observation = OnDemandObservation(new_id(), TYPE, REGION, Decimal(price), "agent", T0 + offset, valid)
        await uow.pricing.add_ondemand_observation(observation)
        if valid:
            await uow.pricing.add_ondemand(OnDemandPrice(TYPE, REGION, Decimal(price), "agent", T0 + offset))


async def test_pr14_savings_use_the_catalogue_price_in_effect_at_each_bucket_start(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    await _catalogue(
        uow,
        ("0.04", timedelta(minutes=-30), True),
        ("0.1", timedelta(minutes=-5), False),
        ("0.05", timedelta(minutes=10), True),
    )
    later = T0 + timedelta(minutes=15)
    await submit(uow, make_submission(A, "0.0120"), make_submission(A, "0.0120", at=later))

    await sut.execute(AggregatePricingCommand())

    first, second = uow.store.buckets[(A, T0)], uow.store.buckets[(A, later)]
    assert (first.ondemand_price, first.savings_percent) == (Decimal("0.04"), Decimal("70.00"))
    assert (second.ondemand_price, second.savings_percent) == (Decimal("0.05"), Decimal("76.00"))


@pytest.mark.parametrize(
    ("observed_offset", "expected_savings"),
    [(timedelta(minutes=-10), Decimal("70.00")), (timedelta(minutes=10), None)],
    ids=["observed-before-bucket", "observed-after-bucket"],
)
async def test_pr14_pr31_no_price_in_effect_yet_means_unknown_savings(
    uow: InMemoryUnitOfWork, sut: Sut, observed_offset: timedelta, expected_savings: Decimal | None
) -> None:
    await _catalogue(uow, ("0.04", observed_offset, True))
    await submit(uow, make_submission(A, "0.0120", ondemand_price=None))

    await sut.execute(AggregatePricingCommand())

    bucket = uow.store.buckets[(A, T0)]
    assert bucket.savings_percent == expected_savings
    assert bucket.ondemand_price == (Decimal("0.04") if expected_savings is not None else None)


async def test_pr14_the_submissions_own_valid_on_demand_price_wins(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    await submit(uow, make_submission(A, "0.0125", ondemand_price=Decimal("0.0500")))
    await sut.execute(AggregatePricingCommand())
    assert uow.store.buckets[(A, T0)].savings_percent == Decimal("75.00")


async def test_pr21_measurement_inside_a_filled_gap_invalidates_the_rest_of_the_fill(
    uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock
) -> None:
    seed_measured(uow, A, {T0: "0.0118", T0 + timedelta(minutes=20): "0.0130"})
    await FillPriceGaps(uow, clock).execute(FillPriceGapsCommand(window_start=T0, window_end=NOW))
    filled = {k: b for k, b in uow.store.buckets.items() if not b.is_measured}
    assert len(filled) == 3
    [fill_id] = {b.fill_id for b in filled.values()}

    landed = make_submission(A, "0.0121", at=T0 + timedelta(minutes=5))
    await submit(uow, landed)
    clock.advance(minutes=1)
    result = await sut.execute(AggregatePricingCommand())

    replaced = uow.store.buckets[(A, T0 + timedelta(minutes=5))]
    assert (replaced.data_source, replaced.fill_id, replaced.interpolation_method) == (DataSource.MEASURED, None, None)
    assert uow.store.submissions[landed.submission_id].outcome == SubmissionOutcome.REPLACED
    assert not [b for b in uow.store.buckets.values() if b.fill_id == fill_id], "the rest of the fill is removed"
    records = [r for r in uow.store.interpolation_records.values() if r.fill_id == fill_id]
    assert len(records) == 3
    assert {r.superseded_at for r in records} == {clock.now()}
    assert (result.fills_invalidated, result.buckets_removed) == (1, 2)

    await FillPriceGaps(uow, clock).execute(FillPriceGapsCommand(window_start=T0, window_end=NOW))
    refilled = [b for b in uow.store.buckets.values() if not b.is_measured]
    assert sorted(b.bucket_start for b in refilled) == [T0 + timedelta(minutes=m) for m in (10, 15)]
    assert fill_id not in {b.fill_id for b in refilled}


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=3600), min_size=1, max_size=12),
    batch=st.integers(min_value=1, max_value=5),
)
async def test_pr12_property_batches_and_reruns_give_the_same_buckets_as_one_pass(
    offsets: list[int], batch: int
) -> None:
    def seeded() -> tuple[InMemoryUnitOfWork, list[Any]]:
        uow = InMemoryUnitOfWork()
        subs = [
            make_submission(A, f"0.01{i % 7}", submission_id=f"s{i:03d}", at=T0 + timedelta(seconds=o), received_at=NOW)
            for i, o in enumerate(offsets)
        ]
        return uow, subs

    one, subs = seeded()
    await submit(one, *subs)
    await AggregatePricing(one, FixedClock(NOW)).execute(AggregatePricingCommand())
    many, subs = seeded()
    await submit(many, *subs)
    while (await AggregatePricing(many, FixedClock(NOW)).execute(AggregatePricingCommand(batch_size=batch))).processed:
        pass

    assert {k: (b.spot_price, b.observation_count) for k, b in one.store.buckets.items()} == {
        k: (b.spot_price, b.observation_count) for k, b in many.store.buckets.items()
    }


def test_jb5_batch_size_must_be_positive() -> None:
    with pytest.raises(InvalidValueError):
        AggregatePricingCommand(batch_size=0)
