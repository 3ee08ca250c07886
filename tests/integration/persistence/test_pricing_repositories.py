"""Contract of the pricing pipeline's repository methods: the in-memory fakes and the SQL adapter behave alike.

Runs on SQLite locally and on MariaDB when ``SPOTOPT_TEST_DATABASE_URL`` is set (CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.models.agents import AgentModel
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.models.notifications import SystemEventModel
from spotopt.adapters.persistence.models.pricing import (
    InterpolationRecordModel,
    OnDemandObservationModel,
    OnDemandPriceModel,
    PriceBucketModel,
    PricingReportModel,
    PricingSubmissionModel,
    SpotPoolModel,
)
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.pricing.buckets import DataSource, InterpolationMethod
from spotopt.domain.pricing.gaps import InterpolationRecord, Neighbour, PeerChange
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingReport, SpotPool
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import new_id
from tests import services
from tests.factories.agents import make_client
from tests.factories.pricing import AGENT, CLIENT, PRIMARY, make_agent, make_bucket, make_submission, pool
from tests.fakes.store import InMemoryStore
from tests.fakes.uow import InMemoryUnitOfWork
from tests.http_app import make_settings, reset_database

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
A, B, C = pool("a"), pool("b"), pool("c")
_PRICING_TABLES = [
    table_of(InterpolationRecordModel),
    table_of(PriceBucketModel),
    table_of(PricingSubmissionModel),
    table_of(PricingReportModel),
    table_of(SpotPoolModel),
    table_of(OnDemandObservationModel),
    table_of(OnDemandPriceModel),
    table_of(SystemEventModel),
    table_of(AgentModel),
    table_of(ClientModel),
]


async def reporter(uow: UnitOfWork) -> None:
    """The client, agent and report the submissions of ``make_submission`` name (their foreign keys)."""
    await uow.clients.add(make_client(client_id=CLIENT))
    await uow.agents.add(make_agent())
    await uow.pricing.add_report(
        PricingReport("report-1", CLIENT, AGENT, PRIMARY, "t3.medium", "us-east-1", "us-east-1a", "spot", T0)
    )


async def catalogued(uow: UnitOfWork, *pool_ids: str) -> None:
    """The catalogue entries the buckets of a test name (their foreign key)."""
    for pool_id in pool_ids:
        await uow.pricing.add_pool(_pool(pool_id, T0))


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp: Path = tmp_path_factory.mktemp("pricing-contract")
    url = services.test_database_url(tmp)
    reset_database(make_settings(url, tmp))
    return url


@dataclass
class Backend:
    """Opens units of work over one store: ``fresh()`` starts a new transaction (a new session for SQL);
    ``stored_price`` reads a submission's price straight from the store."""

    fresh: Callable[[], Awaitable[UnitOfWork]]
    stored_price: Callable[[str], Awaitable[Decimal | None]]


@pytest.fixture(params=["in-memory", "sqlalchemy"])
async def backend(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Backend]:
    if request.param == "in-memory":
        store = InMemoryStore()

        async def fake() -> UnitOfWork:
            return InMemoryUnitOfWork(store)

        async def fake_price(submission_id: str) -> Decimal | None:
            return store.submissions[submission_id].spot_price

        yield Backend(fake, fake_price)
        return
    engine: AsyncEngine = create_engine(database_url)
    async with engine.begin() as conn:
        for table in _PRICING_TABLES:
            await conn.execute(delete(table))
    sessions = create_sessionmaker(engine)
    opened: list[Any] = []

    async def real() -> UnitOfWork:
        while opened:  # one transaction at a time (SQLite takes the write lock at BEGIN)
            await opened.pop().close()
        session = sessions()
        opened.append(session)
        return SqlAlchemyUnitOfWork(session)

    async def real_price(submission_id: str) -> Decimal | None:
        while opened:
            await opened.pop().close()
        c = table_of(PricingSubmissionModel).c
        async with engine.connect() as conn:
            stmt = select(c.spot_price).where(c.submission_id == submission_id)
            return (await conn.execute(stmt)).scalar_one()  # type: ignore[no-any-return]

    yield Backend(real, real_price)
    for session in opened:
        await session.close()
    await engine.dispose()


async def test_md1_pr12_unprocessed_valid_submissions_oldest_first_bounded_and_unique(backend: Backend) -> None:
    uow = await backend.fresh()
    await reporter(uow)
    later = make_submission(A, "0.0125", submission_id="s-3", received_at=T0 + timedelta(seconds=3))
    tie_b = make_submission(A, "0.0125", submission_id="s-2b", received_at=T0)
    tie_a = make_submission(B, "0.0118", submission_id="s-2a", received_at=T0)
    invalid = make_submission(C, "0", submission_id="s-x", is_valid=False, validation_flags=["price_out_of_range"])
    unpriced = make_submission(C, "1", submission_id="s-y", spot_price=None, is_valid=False)
    assert await uow.pricing.add_submissions([later, tie_b, tie_a, invalid, unpriced]) == 5
    await uow.commit()
    uow = await backend.fresh()
    again = make_submission(A, "0.9", submission_id="s-3")
    fresh = make_submission(A, "0.9", submission_id="s-4", received_at=T0 + timedelta(seconds=4))
    assert await uow.pricing.add_submissions([again, fresh]) == 1, "MD-1: only new ids count"
    await uow.commit()

    reader = await backend.fresh()
    found = await reader.pricing.unprocessed_valid_submissions(10)
    assert [s.submission_id for s in found] == ["s-2a", "s-2b", "s-3", "s-4"]
    assert found[2].spot_price == Decimal("0.0125"), "a duplicate id never replaces the stored submission"
    assert [s.submission_id for s in await reader.pricing.unprocessed_valid_submissions(2)] == ["s-2a", "s-2b"]
    since = await reader.pricing.unprocessed_valid_submissions(10, received_since=T0 + timedelta(seconds=1))
    assert [s.submission_id for s in since] == ["s-3", "s-4"]


async def test_pr12_mark_processed_stores_only_the_outcome(backend: Backend) -> None:
    uow = await backend.fresh()
    await reporter(uow)
    first, second = make_submission(A, "0.0125", submission_id="s-1"), make_submission(A, "0.02", submission_id="s-2")
    await uow.pricing.add_submissions([first, second])
    await uow.commit()

    worker = await backend.fresh()
    [one, _] = await worker.pricing.unprocessed_valid_submissions(10)
    one.processed_at, one.outcome = T0 + timedelta(minutes=1), "accepted"
    one.spot_price = Decimal("0.5")  # must not be written
    await worker.pricing.mark_processed([one])
    await worker.commit()

    reader = await backend.fresh()
    assert [s.submission_id for s in await reader.pricing.unprocessed_valid_submissions(10)] == ["s-2"]
    assert await backend.stored_price("s-1") == Decimal("0.0125")


async def test_pr32_pool_sightings_create_and_advance_never_backwards(backend: Backend) -> None:
    uow = await backend.fresh()
    await uow.pricing.record_pool_sightings([_pool(A, T0), _pool(B, T0), _pool(A, T0)], T0)
    await uow.commit()

    uow = await backend.fresh()
    later = T0 + timedelta(minutes=5)
    await uow.pricing.record_pool_sightings([_pool(A, later), _pool(C, later)], later)
    await uow.pricing.record_pool_sightings([_pool(B, T0 - timedelta(hours=1))], T0 - timedelta(hours=1))
    await uow.commit()

    reader = await backend.fresh()
    pools = {p.pool_id: (p.first_seen_at, p.last_seen_at) for p in await reader.pricing.pools_seen_since(T0)}
    assert pools == {A: (T0, later), B: (T0, T0), C: (later, later)}
    assert [p.pool_id for p in await reader.pricing.pools_seen_since(later)] == [A, C]


def _pool(pool_id: str, at: datetime) -> SpotPool:
    instance_type, _, az = pool_id.rpartition(".")
    return SpotPool(pool_id, instance_type, az[:-1], az, at, at)


async def test_pr14_valid_ondemand_history_gives_the_price_in_effect_at_the_start(backend: Backend) -> None:
    uow = await backend.fresh()
    for minutes, price, valid in [(-30, "0.040", True), (-10, "0.041", True), (-5, "0.1", False), (5, "0.042", True)]:
        await uow.pricing.add_ondemand_observation(
            OnDemandObservation(
                new_id(), "t3.medium", "us-east-1", Decimal(price), "agent", T0 + timedelta(minutes=minutes), valid
            )
        )
    await uow.pricing.add_ondemand_observation(
        OnDemandObservation(new_id(), "t3.large", "us-east-1", Decimal("0.08"), "agent", T0, True)
    )
    await uow.commit()

    reader = await backend.fresh()
    history = await reader.pricing.valid_ondemand_history("t3.medium", "us-east-1", T0, T0 + timedelta(minutes=5))
    assert [(o.price, o.observed_at) for o in history] == [
        (Decimal("0.041"), T0 - timedelta(minutes=10)),
        (Decimal("0.042"), T0 + timedelta(minutes=5)),
    ]


async def test_pr27_current_ondemand_of_the_requested_pairs_only(backend: Backend) -> None:
    uow = await backend.fresh()
    for instance_type, region, price in [("t3.medium", "us-east-1", "0.0416"), ("t3.large", "us-west-2", "0.0832")]:
        await uow.pricing.add_ondemand(OnDemandPrice(instance_type, region, Decimal(price), "agent", T0))
    await uow.pricing.add_ondemand(OnDemandPrice("t3.large", "us-east-1", Decimal("0.0832"), "operator", T0))
    await uow.commit()

    reader = await backend.fresh()
    found = await reader.pricing.current_ondemand(
        [("t3.medium", "us-east-1"), ("t3.large", "us-west-2"), ("m5.large", "us-east-1")]
    )
    assert {pair: (p.price, p.observed_at) for pair, p in found.items()} == {
        ("t3.medium", "us-east-1"): (Decimal("0.0416"), T0),
        ("t3.large", "us-west-2"): (Decimal("0.0832"), T0),
    }


async def test_pr13_pr22_recorded_event_keys_by_type_time_and_key(backend: Backend) -> None:
    uow = await backend.fresh()
    events = [
        DomainEvent("price_gap_not_filled", Severity.INFO, "gap", metadata={"dedup_key": "gap:1"}),
        DomainEvent("price_gap_not_filled", Severity.INFO, "gap", metadata={"dedup_key": "gap:2"}),
        DomainEvent("price_discrepancy", Severity.WARNING, "d", metadata={"dedup_key": "gap:3"}),
        DomainEvent("price_gap_not_filled", Severity.INFO, "no key"),
    ]
    await record_events(uow, events, T0)
    await uow.commit()

    reader = await backend.fresh()
    keys = ["gap:1", "gap:3", "gap:9"]
    assert await reader.pricing.recorded_event_keys("price_gap_not_filled", keys, T0) == {"gap:1"}
    assert await reader.pricing.recorded_event_keys("price_gap_not_filled", keys, T0 + timedelta(seconds=1)) == set()
    assert await reader.pricing.recorded_event_keys("price_discrepancy", keys, T0) == {"gap:3"}


def _interpolated(pool_id: str, at: datetime, price: str, fill_id: str) -> Any:
    return make_bucket(
        pool_id,
        at,
        price,
        source_type=SourceType.INTERPOLATED,
        data_source=DataSource.INTERPOLATED,
        interpolation_method=InterpolationMethod.LINEAR,
        confidence=Decimal("0.85"),
        fill_id=fill_id,
        observation_count=0,
    )


async def test_md2_buckets_save_replaces_by_key_and_reads_are_exact(backend: Backend) -> None:
    uow = await backend.fresh()
    await catalogued(uow, A, B)
    measured = make_bucket(A, T0, "0.012", ondemand_price=Decimal("0.0416"), savings_percent=Decimal("71.15"))
    await uow.buckets.save([measured, make_bucket(A, T0 + timedelta(minutes=5), "0.013"), make_bucket(B, T0, "0.02")])
    await uow.commit()

    uow = await backend.fresh()
    replaced = make_bucket(A, T0, "0.0121", observation_count=2, discrepancy=True)
    await uow.buckets.save([replaced])
    await uow.commit()

    reader = await backend.fresh()
    found = await reader.buckets.get_many([(A, T0), (B, T0 + timedelta(minutes=5)), (C, T0)])
    assert list(found) == [(A, T0)]
    got = found[(A, T0)]
    assert (got.spot_price, got.observation_count, got.discrepancy, got.ondemand_price) == (
        Decimal("0.0121"),
        2,
        True,
        None,
    )
    window = await reader.buckets.in_window([A, B], T0, T0 + timedelta(minutes=5))
    assert [b.key for b in window] == [(A, T0), (B, T0)], "half-open window, by pool then start"
    assert len(await reader.buckets.in_window([A], T0, T0 + timedelta(minutes=10))) == 2


async def test_pr17_insert_new_never_touches_a_stored_bucket(backend: Backend) -> None:
    uow = await backend.fresh()
    await catalogued(uow, A)
    await uow.buckets.save([make_bucket(A, T0 + timedelta(minutes=5), "0.013")])
    await uow.commit()

    uow = await backend.fresh()
    fill = [_interpolated(A, T0 + timedelta(minutes=m), "0.0125", "fill-1") for m in (5, 10)]
    assert await uow.buckets.insert_new(fill) == {(A, T0 + timedelta(minutes=10))}
    await uow.commit()

    reader = await backend.fresh()
    stored = await reader.buckets.get_many([b.key for b in fill])
    assert stored[(A, T0 + timedelta(minutes=5))].is_measured
    assert stored[(A, T0 + timedelta(minutes=10))].fill_id == "fill-1"


async def test_pr21_fill_buckets_and_records_round_trip_and_delete(backend: Backend) -> None:
    uow = await backend.fresh()
    await catalogued(uow, A, B)
    buckets = [_interpolated(A, T0 + timedelta(minutes=m), "0.0125", "fill-1") for m in (5, 10)]
    await uow.buckets.insert_new([*buckets, _interpolated(B, T0, "0.02", "fill-2")])
    record = _record("fill-1", T0 + timedelta(minutes=5))
    await uow.buckets.save_records([record, _record("fill-2", T0)])
    await uow.commit()

    uow = await backend.fresh()
    assert {b.key for b in await uow.buckets.of_fills(["fill-1"])} == {b.key for b in buckets}
    [loaded] = await uow.buckets.records_of_fills(["fill-1"])
    assert (loaded.neighbours, loaded.peers, loaded.result) == (record.neighbours, record.peers, record.result)
    loaded.superseded_at = T0 + timedelta(hours=1)
    await uow.buckets.save_records([loaded])
    await uow.buckets.delete(buckets[1:])
    await uow.commit()

    reader = await backend.fresh()
    assert [b.key for b in await reader.buckets.of_fills(["fill-1"])] == [buckets[0].key]
    [superseded] = await reader.buckets.records_of_fills(["fill-1"])
    assert superseded.superseded_at == T0 + timedelta(hours=1)
    assert len(await reader.buckets.records_of_fills(["fill-1", "fill-2"])) == 2


def _record(fill_id: str, at: datetime) -> InterpolationRecord:
    return InterpolationRecord(
        record_id=new_id(),
        pool_id=A,
        bucket_start=at,
        fill_id=fill_id,
        method=InterpolationMethod.CROSS_POOL,
        confidence=Decimal("0.70"),
        n=7,
        t_b=at - timedelta(minutes=5),
        p_b=Decimal("0.012"),
        t_a=at + timedelta(minutes=30),
        p_a=Decimal("0.013"),
        result=Decimal("0.0125"),
        created_at=T0,
        neighbours=(Neighbour(A, at - timedelta(minutes=5), Decimal("0.012"), Decimal("0.00331125827814569536")),),
        peers=(PeerChange(B, at - timedelta(minutes=5), Decimal("0.01"), at, Decimal("0.0105"), Decimal("0.05")),),
    )


async def test_bulk_reads_are_detached_from_the_unit_of_work(backend: Backend) -> None:
    uow = await backend.fresh()
    await catalogued(uow, A)
    await uow.buckets.save([make_bucket(A, T0, "0.012")])
    await uow.commit()

    uow = await backend.fresh()
    [bucket] = await uow.buckets.in_window([A], T0, T0 + timedelta(minutes=5))
    bucket.spot_price = Decimal("0.9")
    await uow.commit()

    reader = await backend.fresh()
    assert (await reader.buckets.get_many([(A, T0)]))[(A, T0)].spot_price == Decimal("0.012")
