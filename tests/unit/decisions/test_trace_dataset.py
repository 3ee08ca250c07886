"""How public traces become fleet observations (adapters/ml/traces.py): lives, notices and fleet statistics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from spotopt.adapters.ml.traces import FleetHistory, TracePool, TraceTrainingData
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.training import TrackedLife

T0 = datetime(2023, 2, 15, tzinfo=UTC)
GAP = timedelta(minutes=5)


def trace(counts: list[int]) -> TracePool:
    return TracePool("f", "p3.2xlarge.us-east-1a", "p3.2xlarge", "us-east-1a", T0, GAP, tuple(counts))


def test_a_one_node_trace_gives_one_life_per_available_run_with_a_notice_two_minutes_before_the_drop() -> None:
    lives = trace([0, 1, 1, 1, 0, 0, 1, 1]).lives()
    assert [(life.start - T0, life.end - T0, life.notice_at) for life in lives] == [
        (GAP, 4 * GAP, T0 + 4 * GAP - timedelta(minutes=2)),
        (6 * GAP, 7 * GAP, None),  # the trace ends: censored, no notice
    ]


def test_a_multi_node_trace_gives_one_life_per_slot() -> None:
    lives = trace([2, 2, 1, 2, 0]).lives()
    slots = sorted((life.start - T0, life.end - T0) for life in lives)
    assert slots == [(0 * GAP, 2 * GAP), (0 * GAP, 4 * GAP), (3 * GAP, 4 * GAP)]
    assert all(life.notice_at is not None for life in lives)


def test_a_notice_is_never_before_its_lifes_start() -> None:
    fast = TracePool("f", "r5.16xlarge.us-east-1b", "r5.16xlarge", "us-east-1b", T0, timedelta(seconds=34), (1, 0))
    (life,) = fast.lives()
    assert life.notice_at == life.start


def test_fleet_statistics_count_only_what_happened_up_to_t() -> None:
    lives = [
        TrackedLife("a", "p", T0, T0 + timedelta(hours=10), notice_at=T0 + timedelta(hours=10)),
        TrackedLife("b", "p", T0 + timedelta(hours=11), T0 + timedelta(days=3), notice_at=T0 + timedelta(days=3)),
        TrackedLife("c", "p", T0 + timedelta(days=3, hours=1), T0 + timedelta(days=9)),
    ]
    history = FleetHistory(lives)
    before = history.stats(T0 + timedelta(hours=9))
    assert (before.t24, before.t7, before.last_notice_at) == (0, 0, None)
    assert before.exposure_hours_7d == Decimal(9)
    later = history.stats(T0 + timedelta(days=3, hours=2))
    assert (later.t24, later.t7, later.t30) == (1, 2, 2)
    assert later.last_notice_at == T0 + timedelta(days=3)
    assert later.exposure_hours_7d == Decimal(10 + 61 + 1)
    assert history.stats(T0 + timedelta(days=9)).t7 == 1


def test_without_the_shared_data_the_adapter_says_so(tmp_path: Path) -> None:
    data = TraceTrainingData(tmp_path)
    assert not data.available()
    with pytest.raises(Exception, match="spot traces not found"):
        data.pools()


async def test_a_small_trace_folder_yields_risk_samples_and_no_price_samples(tmp_path: Path) -> None:
    folder = tmp_path / "spot-traces/availability/1-node/aws-02-15-2023"
    folder.mkdir(parents=True)
    counts = ([1] * 40 + [0] * 3) * 6
    (folder / "us-east-1a_v100_1.json").write_text(json.dumps({"metadata": {"gap_seconds": 300}, "data": counts}))
    (tmp_path / "spot-prices").mkdir()
    (tmp_path / "spot-prices/spot-price-data-2022-07-23.json").write_text(
        json.dumps({"us-east": {"p3.2xlarge": {"Linux": "0.918"}}})
    )
    (tmp_path / "spot-advisor").mkdir()
    (tmp_path / "spot-advisor/spot-advisor-data-2022-07-23.json").write_text(
        json.dumps({"spot_advisor": {"us-east-1": {"Linux": {"p3.2xlarge": {"r": 4, "s": 70}}}}})
    )
    data = TraceTrainingData(tmp_path, ("spot-traces/availability/1-node/aws-02-15-2023",))
    end = data.window_end
    samples = await data.samples(ModelKind.INTERRUPTION_RISK, end - timedelta(days=180), end)
    assert samples
    assert {s.label for s in samples} == {0.0, 1.0}
    row = samples[-1].features
    assert row["spot_price"] == pytest.approx(0.918)
    assert row["ondemand_price"] == pytest.approx(3.06)
    assert row["rebalances_24h"] == 0.0
    assert row["price_change_1h"] is None  # no price history in the public data
    assert all(s.label_end <= end for s in samples)
    assert await data.samples(ModelKind.PRICE_FORECAST, end - timedelta(days=180), end) == []
