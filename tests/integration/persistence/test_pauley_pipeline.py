"""Replay real AWS spot price changes (pauley archive, 2022-05-31) through the whole pricing pipeline on the real
database adapter: A6 ingestion (``RecordPricingReport``) → ``AggregatePricing`` → ``FillPriceGaps``.

SQLite locally, MariaDB under CI (``SPOTOPT_TEST_DATABASE_URL``). Sample: the Linux/UNIX rows of every region
whose code is in ``SAMPLE_REGIONS`` (one report per region, instance type and timestamp, as an agent reporting a
price change would send it); the whole file is replayed through the pure domain in
``tests/unit/domain/test_pauley_replay.py``.
"""

from __future__ import annotations

import io
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import zstandard
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.pricing.aggregate_pricing import AggregatePricing, AggregatePricingCommand
from spotopt.application.pricing.fill_price_gaps import FillPriceGaps, FillPriceGapsCommand
from spotopt.application.pricing.record_pricing_report import (
    RecordPricingReport,
    RecordPricingReportCommand,
    ReportedInstance,
    ReportedPool,
)
from spotopt.domain.clients.client import Client
from spotopt.domain.pricing.buckets import BUCKET_WIDTH, CleanPriceBucket, InterpolationMethod, bucket_start
from spotopt.domain.pricing.gap_filling import NEIGHBOUR_REACH
from spotopt.domain.pricing.gaps import InterpolationRecord
from spotopt.domain.shared.pools import Mode
from tests import services
from tests.factories.pricing import AGENT, CLIENT, PRIMARY, T0, make_agent, make_instance
from tests.fakes.system import FixedClock
from tests.http_app import make_settings, reset_database
from tests.shared_data import require_shared_file

DATA_FILE = "spot-prices/pauley-2022-05-31.tsv.zst"
PRODUCT = "Linux/UNIX"
SAMPLE_REGIONS = frozenset({"sae1", "euc1"})  # 1,096 rows, 791 reports; exercises every fill method
REGIONS = {
    "use1": "us-east-1", "use2": "us-east-2", "usw1": "us-west-1", "usw2": "us-west-2", "cac1": "ca-central-1",
    "sae1": "sa-east-1", "euw1": "eu-west-1", "euw2": "eu-west-2", "euw3": "eu-west-3", "euc1": "eu-central-1",
    "eun1": "eu-north-1", "aps1": "ap-south-1", "apse1": "ap-southeast-1", "apse2": "ap-southeast-2",
    "apne1": "ap-northeast-1", "apne2": "ap-northeast-2", "apne3": "ap-northeast-3",
}  # fmt: skip
RECEIPT_DELAY = timedelta(seconds=30)
TOLERANCE = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Row:
    pool_id: str
    instance_type: str
    region: str
    az: str
    price: Decimal
    at: datetime


def az_name(az_id: str) -> tuple[str, str]:
    """``use1-az4`` → (``us-east-1``, ``us-east-1d``): AZ ids mapped to names by their number (account-neutral)."""
    code, _, number = az_id.partition("-az")
    region = REGIONS[code]
    return region, f"{region}{chr(ord('a') + int(number) - 1)}"


def load_sample(path: Path) -> list[Row]:
    with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
        lines = io.TextIOWrapper(reader, encoding="utf-8").read().splitlines()
    rows = []
    for line in lines:
        az_id, instance_type, product, price, timestamp = line.split("\t")
        if product != PRODUCT or az_id.split("-")[0] not in SAMPLE_REGIONS:
            continue
        region, az = az_name(az_id)
        rows.append(
            Row(f"{instance_type}.{az}", instance_type, region, az, Decimal(price), datetime.fromisoformat(timestamp))
        )
    return sorted(rows, key=lambda r: r.at)


def reports_of(rows: list[Row]) -> list[tuple[str, RecordPricingReportCommand]]:
    """One report per (region, type, timestamp): the AZs whose price changed then, ``collected_at`` as sent."""
    grouped: dict[tuple[datetime, str, str], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(row.at, row.region, row.instance_type)].append(row)
    commands = []
    for (at, region, instance_type), items in sorted(grouped.items()):
        raw = at.isoformat()
        facts = ReportedInstance(
            instance_id=PRIMARY, instance_type=instance_type, region=region, az=items[0].az, mode=Mode.SPOT
        )
        pools = tuple(
            ReportedPool(pool_id=r.pool_id, az=r.az, price=r.price, instance_type=r.instance_type) for r in items
        )
        commands.append(
            (
                raw,
                RecordPricingReportCommand(
                    client_id=CLIENT,
                    agent_id=AGENT,
                    instance=facts,
                    spot_pools=pools,
                    collected_at=at,
                    collected_at_raw=raw,
                ),
            )
        )
    return commands


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = services.test_database_url(tmp_path)
    reset_database(make_settings(url, tmp_path))
    engine: AsyncEngine = create_engine(url)
    maker = create_sessionmaker(engine)
    async with maker() as session:
        uow = SqlAlchemyUnitOfWork(session)
        await uow.clients.add(Client(CLIENT, "Replay", None, "hash", "hint", T0, T0, T0))
        await uow.agents.add(make_agent())
        await uow.instances.add(make_instance())
        await uow.commit()
    yield maker
    await engine.dispose()


async def test_pr10_pr12_md2_pr15_pauley_replay_on_the_database_adapter(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rows = load_sample(require_shared_file(DATA_FILE))
    reports = reports_of(rows)
    end = rows[-1].at + RECEIPT_DELAY
    timings: dict[str, float] = {}

    started = time.perf_counter()
    for _, command in reports:
        assert command.collected_at is not None
        async with sessions() as session:
            clock = FixedClock(command.collected_at + RECEIPT_DELAY)
            result = await RecordPricingReport(SqlAlchemyUnitOfWork(session), clock).execute(command)
            assert result.pools_rejected == 0
    timings["ingest"] = time.perf_counter() - started

    later = FixedClock(end + timedelta(days=1))
    started = time.perf_counter()
    runs = 0
    while True:
        async with sessions() as session:
            aggregated = await AggregatePricing(SqlAlchemyUnitOfWork(session), later).execute(AggregatePricingCommand())
        runs += 1
        if not aggregated.has_more:
            break
    timings["aggregate"] = time.perf_counter() - started

    window = FillPriceGapsCommand(window_start=bucket_start(rows[0].at), window_end=end + BUCKET_WIDTH)
    started = time.perf_counter()
    async with sessions() as session:
        filled = await FillPriceGaps(SqlAlchemyUnitOfWork(session), later).execute(window)
    timings["fill"] = time.perf_counter() - started

    buckets, records = await _stored(sessions, rows)
    measured = [b for b in buckets if b.is_measured]
    first_seen: dict[tuple[str, datetime], Decimal] = {}
    for row in rows:
        first_seen.setdefault((row.pool_id, bucket_start(row.at)), row.price)
    assert len(measured) == len(first_seen), "one bucket per distinct (pool, 5-minute bucket)"
    assert {b.key: b.spot_price for b in measured} == first_seen, "first received wins, never averaged"
    interpolated = [b for b in buckets if not b.is_measured]
    assert len(interpolated) == filled.buckets_filled == len(records)
    assert {b.interpolation_method for b in interpolated} == set(InterpolationMethod), "the sample uses every method"
    _assert_within_surrounding_measurements(records, measured)

    again = await _rerun(sessions, later, window)
    assert again == (0, 0), "aggregating and filling again changes nothing"
    print(
        f"\npauley replay sample {sorted(SAMPLE_REGIONS)}: {len(rows)} rows, {len(reports)} reports, "
        f"{len(measured)} measured + {len(interpolated)} interpolated buckets, {runs} aggregator runs; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    )


async def _stored(
    sessions: async_sessionmaker[AsyncSession], rows: list[Row]
) -> tuple[list[CleanPriceBucket], list[InterpolationRecord]]:
    async with sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        pool_ids = sorted({r.pool_id for r in rows})
        buckets = await uow.buckets.in_window(pool_ids, rows[0].at - timedelta(days=1), rows[-1].at + timedelta(days=1))
        fills = sorted({b.fill_id for b in buckets if b.fill_id is not None})
        return list(buckets), list(await uow.buckets.records_of_fills(fills))


async def _rerun(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, window: FillPriceGapsCommand
) -> tuple[int, int]:
    async with sessions() as session:
        aggregated = await AggregatePricing(SqlAlchemyUnitOfWork(session), clock).execute(AggregatePricingCommand())
    async with sessions() as session:
        filled = await FillPriceGaps(SqlAlchemyUnitOfWork(session), clock).execute(window)
    return aggregated.processed, filled.buckets_filled


def _assert_within_surrounding_measurements(
    records: list[InterpolationRecord], measured: list[CleanPriceBucket]
) -> None:
    """No interpolated price leaves the range of the measurements it was made from."""
    by_pool: dict[str, list[CleanPriceBucket]] = defaultdict(list)
    for b in measured:
        by_pool[b.pool_id].append(b)
    for record in records:
        if record.method is InterpolationMethod.CROSS_POOL:
            ratios = [p.ratio for p in record.peers]
            low, high = record.p_b * (1 + min(ratios)), record.p_b * (1 + max(ratios))
        else:
            around = [
                b.spot_price
                for b in by_pool[record.pool_id]
                if record.t_b - NEIGHBOUR_REACH <= b.bucket_start <= record.t_a + NEIGHBOUR_REACH
            ]
            low, high = min(around), max(around)
        assert low - TOLERANCE <= record.result <= high + TOLERANCE, record
