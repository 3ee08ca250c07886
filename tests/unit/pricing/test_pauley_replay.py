"""Replay real AWS spot price changes (pauley archive, 2022-05-31) through the pricing pipeline domain."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import zstandard

from spotopt.domain.pricing.aggregation import aggregate
from spotopt.domain.pricing.buckets import (
    BUCKET_WIDTH,
    CleanPriceBucket,
    InterpolationMethod,
    SubmissionOutcome,
    bucket_start,
)
from spotopt.domain.pricing.gap_filling import fill_gaps
from spotopt.domain.pricing.gaps import GapFillResult
from spotopt.domain.pricing.market import PricingSubmission
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId

try:
    from tests.shared_data import require_shared_file
except ModuleNotFoundError:  # pytest puts tests/, not the repository root, on sys.path (tests/ has no __init__.py)
    from shared_data import require_shared_file  # type: ignore[import-not-found,no-redef]

DATA_FILE = "spot-prices/pauley-2022-05-31.tsv.zst"
PRODUCT = "Linux/UNIX"
# AZ ids (use1-az1) carry a region code; the pool's "az" is the AZ id itself.
REGIONS = {
    "use1": "us-east-1", "use2": "us-east-2", "usw1": "us-west-1", "usw2": "us-west-2", "cac1": "ca-central-1",
    "sae1": "sa-east-1", "euw1": "eu-west-1", "euw2": "eu-west-2", "euw3": "eu-west-3", "euc1": "eu-central-1",
    "eun1": "eu-north-1", "aps1": "ap-south-1", "apse1": "ap-southeast-1", "apse2": "ap-southeast-2",
    "apne1": "ap-northeast-1", "apne2": "ap-northeast-2", "apne3": "ap-northeast-3",
}  # fmt: skip
TOLERANCE = Decimal("0.000001")


def load_submissions(path: Path) -> list[PricingSubmission]:
    with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
        lines = io.TextIOWrapper(reader, encoding="utf-8").read().splitlines()
    submissions = []
    for i, line in enumerate(lines):
        az_id, instance_type, product, price, timestamp = line.split("\t")
        if product != PRODUCT:
            continue
        observed = datetime.fromisoformat(timestamp)
        submissions.append(
            PricingSubmission(
                submission_id=f"row-{i}",
                pool_id=f"{instance_type}.{az_id}",
                instance_type=instance_type,
                region=REGIONS.get(az_id.split("-")[0], az_id.split("-")[0]),
                az=az_id,
                spot_price=Decimal(price),
                observed_at=observed,
                received_at=observed + timedelta(seconds=30),
                source_type=SourceType.PRIMARY,
                agent_id=AgentId("replay"),
                instance_id=InstanceId("i-0123456789abcdef0"),
                client_id=ClientId("replay"),
                report_id=f"report-{i}",
                is_valid=True,
            )
        )
    return submissions


def fill_all(buckets: tuple[CleanPriceBucket, ...], now: datetime) -> dict[str, GapFillResult]:
    by_pool: dict[str, list[CleanPriceBucket]] = defaultdict(list)
    by_group: dict[tuple[str, str], dict[str, list[CleanPriceBucket]]] = defaultdict(lambda: defaultdict(list))
    for b in buckets:
        by_pool[b.pool_id].append(b)
        by_group[b.instance_type, b.region][b.pool_id].append(b)
    window_start = min(b.bucket_start for b in buckets)
    window_end = max(b.bucket_start for b in buckets) + BUCKET_WIDTH
    return {
        pool_id: fill_gaps(
            pool_id,
            own,
            by_group[own[0].instance_type, own[0].region],
            window_start=window_start,
            window_end=window_end,
            now=now,
        )
        for pool_id, own in by_pool.items()
        if len(own) > 1
    }


def assert_within_surrounding_measurements(result: GapFillResult, own: list[CleanPriceBucket]) -> None:
    for record in result.records:
        if record.method is InterpolationMethod.CROSS_POOL:
            ratios = [p.ratio for p in record.peers]
            low, high = record.p_b * (1 + min(ratios)), record.p_b * (1 + max(ratios))
        else:
            reach = timedelta(hours=1)
            around = [b.spot_price for b in own if record.t_b - reach <= b.bucket_start <= record.t_a + reach]
            low, high = min(around), max(around)
        assert low - TOLERANCE <= record.result <= high + TOLERANCE, record


def test_pr10_pr12_md2_pauley_replay_yields_one_bucket_per_pool_and_5_minute_bucket_and_fills_within_measured_ranges() -> (
    None
):
    submissions = load_submissions(require_shared_file(DATA_FILE))
    now = max(s.received_at for s in submissions) + timedelta(days=1)

    aggregated = aggregate(submissions, [], lambda *_: None, now)

    first_seen: dict[tuple[str, datetime], Decimal | None] = {}
    for s in submissions:
        first_seen.setdefault((s.pool_id, bucket_start(s.observed_at)), s.spot_price)
    assert len(aggregated.buckets) == len(first_seen)
    assert {b.key: b.spot_price for b in aggregated.buckets} == first_seen, "first received wins, never averaged"
    assert len(aggregated.submissions) == len(submissions)
    assert set(aggregated.outcomes.values()) <= {SubmissionOutcome.ACCEPTED, SubmissionOutcome.KEPT_EXISTING}

    results = fill_all(aggregated.buckets, now)

    own_by_pool: dict[str, list[CleanPriceBucket]] = defaultdict(list)
    for b in aggregated.buckets:
        own_by_pool[b.pool_id].append(b)
    filled = [b for r in results.values() for b in r.buckets]
    assert {b.interpolation_method for b in filled} == set(InterpolationMethod), "the sample exercises every method"
    assert not {b.key for b in filled} & first_seen.keys(), "filling never overwrites"
    for pool_id, result in results.items():
        own = own_by_pool[pool_id]
        first, last = min(b.bucket_start for b in own), max(b.bucket_start for b in own)
        assert all(first < b.bucket_start < last for b in result.buckets)
        assert_within_surrounding_measurements(result, own)
