"""The gap filler use case (domain §4.3 PR-15 – PR-22, §7.2) over the in-memory fakes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.pricing.fill_price_gaps import FillPriceGaps, FillPriceGapsCommand, FillPriceGapsResult
from spotopt.domain.pricing.buckets import DataSource, InterpolationMethod
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.errors import InvalidValueError
from tests.factories.pricing import T0, make_bucket, pool, seed_measured
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork, InScope

NOW = T0 + timedelta(hours=3)
A = pool("a")


def at(hh: int, mm: int) -> datetime:
    return T0.replace(hour=hh, minute=mm)


Sut = InScope[[FillPriceGapsCommand], FillPriceGapsResult]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def sut(uow: InMemoryUnitOfWork, clock: FixedClock) -> Sut:
    return InScope(FillPriceGaps(uow, clock).execute, uow)


def window(start: datetime = T0 - timedelta(hours=1), end: datetime = NOW) -> FillPriceGapsCommand:
    return FillPriceGapsCommand(window_start=start, window_end=end)


def state(uow: InMemoryUnitOfWork) -> tuple[object, ...]:
    """Every stored value (entities compare by identity only)."""
    return (
        {k: repr(b) for k, b in uow.store.buckets.items()},
        {k: repr(r) for k, r in uow.store.interpolation_records.items()},
        [repr(e) for e in uow.store.events],
    )


def interpolated(uow: InMemoryUnitOfWork) -> dict[datetime, Decimal]:
    return {b.bucket_start: b.spot_price for b in uow.store.buckets.values() if not b.is_measured}


async def test_pr18_pr19_linear_example_fills_the_middle_bucket_with_a_record(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    seed_measured(uow, A, {at(10, 0): "0.012000", at(10, 10): "0.013000"})

    result = await sut.execute(window())

    bucket = uow.store.buckets[(A, at(10, 5))]
    assert (bucket.spot_price, bucket.confidence) == (Decimal("0.012500"), Decimal("0.85"))
    assert (bucket.data_source, bucket.source_type, bucket.interpolation_method) == (
        DataSource.INTERPOLATED,
        SourceType.INTERPOLATED,
        InterpolationMethod.LINEAR,
    )
    assert bucket.ondemand_price is None
    [record] = uow.store.interpolation_records.values()
    assert (record.fill_id, record.n, record.t_b, record.t_a, record.result) == (
        bucket.fill_id,
        2,
        at(10, 0),
        at(10, 10),
        Decimal("0.012500"),
    )
    assert (result.pools_examined, result.buckets_filled) == (1, 1)
    assert uow.commits == 1


async def test_pr18_weighted_average_example(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    seed_measured(
        uow,
        A,
        {
            at(9, 50): "0.0118",
            at(9, 55): "0.0118",
            at(10, 0): "0.0120",
            at(10, 20): "0.0130",
            at(10, 25): "0.0131",
            at(10, 30): "0.0131",
        },
    )
    await sut.execute(window())

    assert uow.store.buckets[(A, at(10, 5))].spot_price == Decimal("0.012253")
    assert len({b.fill_id for b in uow.store.buckets.values() if not b.is_measured}) == 1, "one fill_id per gap"


async def test_pr18_cross_pool_example_uses_the_other_pools_of_the_type_and_region(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    seed_measured(uow, A, {at(10, 0): "0.0120", at(11, 0): "0.0125"})
    for z, start, end in (("b", "0.0100", "0.0105"), ("c", "0.0200", "0.0200"), ("d", "0.0150", "0.0159")):
        seed_measured(uow, pool(z), {at(10, 0) + timedelta(minutes=5 * k): start for k in range(6)})
        seed_measured(uow, pool(z), {at(10, 30) + timedelta(minutes=5 * k): end for k in range(7)})
    seed_measured(uow, "t3.large.us-east-1b", {at(10, 0): "0.05", at(10, 30): "0.5"})

    await sut.execute(window())

    filled = uow.store.buckets[(A, at(10, 30))]
    assert (filled.spot_price, filled.interpolation_method) == (Decimal("0.012600"), InterpolationMethod.CROSS_POOL)
    filled_by_pool = Counter(b.pool_id for b in uow.store.buckets.values() if not b.is_measured)
    assert filled_by_pool == {A: 11, "t3.large.us-east-1b": 5}, "t3.large is no peer of t3.medium, only itself"


async def test_pr20_filling_twice_creates_nothing(uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock) -> None:
    seed_measured(uow, A, {at(10, 0): "0.0120", at(10, 20): "0.0130", at(12, 5): "0.0130"})
    await sut.execute(window())
    before = state(uow)
    assert interpolated(uow)
    clock.advance(minutes=15)

    again = await sut.execute(window())

    assert state(uow) == before
    assert (again.buckets_filled, again.gaps_not_filled_events) == (0, 0)


async def test_pr22_a_gap_too_long_emits_one_info_event_across_runs(
    uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock
) -> None:
    seed_measured(uow, A, {at(10, 0): "0.0120", at(12, 5): "0.0130"})

    first = await sut.execute(window())
    clock.advance(hours=20)
    await sut.execute(FillPriceGapsCommand.daily(clock.now()))

    assert not interpolated(uow), "n >= 25 is never filled"
    [event] = [e for e in uow.store.events if e.type == "price_gap_not_filled"]
    assert (event.severity.value, event.metadata["pool_id"], event.metadata["start"], event.metadata["n"]) == (
        "info",
        A,
        at(10, 5).isoformat(),
        25,
    )
    assert first.gaps_not_filled_events == 1
    assert not uow.store.notifications


async def test_pr22_a_new_measurement_inside_a_long_gap_makes_new_gaps(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    seed_measured(uow, A, {at(10, 0): "0.0120", at(16, 0): "0.0130"})
    await sut.execute(window(end=NOW + timedelta(hours=4)))
    seed_measured(uow, A, {at(13, 0): "0.0125"})
    await sut.execute(window(end=NOW + timedelta(hours=4)))

    assert len([e for e in uow.store.events if e.type == "price_gap_not_filled"]) == 3


async def test_pr16_edges_of_the_window_are_never_filled(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    seed_measured(uow, A, {at(9, 50): "0.0120", at(10, 10): "0.0130", at(10, 20): "0.0140"})

    await sut.execute(window(start=at(10, 0)))

    assert set(interpolated(uow)) == {at(10, 15)}, "9:50 is outside the window: no boundary, no fill before 10:10"


async def test_pr17_a_bucket_ending_less_than_10_minutes_ago_waits_for_a_later_run(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    seed_measured(uow, A, {at(10, 0): "0.0120", at(10, 10): "0.0130"})
    clock.current = at(10, 19)
    await FillPriceGaps(uow, clock).execute(window(end=clock.now()))
    assert not interpolated(uow)

    clock.current = at(10, 20)
    await FillPriceGaps(uow, clock).execute(window(end=clock.now()))
    assert set(interpolated(uow)) == {at(10, 5)}


async def test_pr15_interpolated_buckets_are_never_boundaries(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    seed_measured(uow, A, {at(10, 0): "0.0120"})
    uow.buckets.put(
        make_bucket(
            A,
            at(10, 10),
            "0.0500",
            source_type=SourceType.INTERPOLATED,
            data_source=DataSource.INTERPOLATED,
            interpolation_method=InterpolationMethod.LINEAR,
            confidence=Decimal("0.85"),
            fill_id="old-fill",
        )
    )
    await sut.execute(window())
    assert (A, at(10, 5)) not in uow.store.buckets


async def test_pools_not_seen_in_the_window_are_not_examined(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    seed_measured(uow, A, {at(4, 0): "0.0120", at(4, 10): "0.0130"})
    result = await sut.execute(window(start=at(8, 0)))
    assert result.pools_examined == 0
    assert not interpolated(uow)


def test_windows_of_the_two_schedules() -> None:
    tick = T0.replace(hour=3)
    assert FillPriceGapsCommand.recent(tick) == FillPriceGapsCommand(
        window_start=tick - timedelta(hours=6), window_end=tick
    )
    assert FillPriceGapsCommand.daily(tick).window_start == tick - timedelta(hours=48)
    with pytest.raises(InvalidValueError):
        FillPriceGapsCommand(window_start=tick, window_end=tick)
    with pytest.raises(InvalidValueError):
        FillPriceGapsCommand(window_start=tick.replace(tzinfo=None), window_end=tick)


@given(
    steps=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=6),
    prices=st.lists(st.integers(min_value=100, max_value=200), min_size=7, max_size=7),
)
async def test_pr20_property_a_second_run_never_adds_or_changes_anything(steps: list[int], prices: list[int]) -> None:
    uow, clock = InMemoryUnitOfWork(), FixedClock(NOW + timedelta(days=1))
    starts = [T0]
    for step in steps:
        starts.append(starts[-1] + timedelta(minutes=5 * step))
    seed_measured(uow, A, {s: f"0.0{p}" for s, p in zip(starts, prices, strict=False)})
    command = window(end=clock.now())
    await FillPriceGaps(uow, clock).execute(command)
    before = state(uow)

    await FillPriceGaps(uow, clock).execute(command)

    assert state(uow) == before
    measured = [b.spot_price for b in uow.store.buckets.values() if b.is_measured]
    for b in uow.store.buckets.values():
        assert min(measured) <= b.spot_price <= max(measured), "linear and weighted values stay inside the data"
        assert b.is_measured or len(uow.store.interpolation_records) > 0


async def test_jb3_fills_commit_in_bounded_batches_of_whole_groups(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    for size in range(30):
        for z in "abcde":
            seed_measured(uow, pool(z, instance_type=f"c5.{size}xlarge"), {at(10, 0): "0.0120", at(10, 10): "0.0130"})

    result = await sut.execute(window())

    assert (result.pools_examined, result.buckets_filled) == (150, 150)
    assert uow.commits == 2, "100 pools (20 whole groups of 5), then the other 50"
