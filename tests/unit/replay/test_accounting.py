"""The replay's accounting on tiny traces: availability, cost, outage, preemptions, migrations (hand-computed)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spotopt.entrypoints.replay import baselines
from spotopt.entrypoints.replay.cloud import Cloud, CloudSettings
from spotopt.entrypoints.replay.market import MarketDataError
from spotopt.entrypoints.replay.results import ReplayResult, table
from tests.unit.replay.markets import market


def dollars(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"))


def run(policy: baselines.BasePolicy, m, **settings: int | bool) -> ReplayResult:  # type: ignore[no-untyped-def]
    cloud = Cloud(m, CloudSettings(**{"cold_start": 60, "notice_seconds": 60, **settings}))  # type: ignore[arg-type]
    cloud.run(policy)
    return ReplayResult.of(policy.name, cloud)


def test_on_demand_only_is_always_available_at_full_price() -> None:
    result = run(baselines.OnDemandOnly(), market(a="0000000000"))
    assert result.availability_percent == 100
    assert result.cost_percent == 100
    assert (result.preemptions, result.migrations, result.outage_seconds) == (0, 0, 0)


def test_fixed_zone_waits_out_the_outage_and_pays_for_the_cold_start() -> None:
    # Warm in 1a at 0, preempted at 180 s; the zone is back at 300 s, relaunched, serving from 360 s.
    result = run(baselines.FixedZone("us-east-1a"), market(a="1110011111"))
    assert result.outage_seconds == 180
    assert result.outage_minutes == 3
    assert result.availability_percent == 70
    # 180 s + 300 s of spot at $1/h against 600 s of on-demand at $4/h.
    assert dollars(result.cost) == dollars(Decimal(480) / 3600)
    assert result.cost_percent == 20
    assert (result.preemptions, result.migrations) == (1, 1)


def test_greedy_acting_on_the_notice_hands_over_without_outage() -> None:
    # Notice at 120 s (60 s ahead): 1b launched at 120 s, warm at 180 s when 1a goes down.
    result = run(baselines.Greedy(["us-east-1a", "us-east-1b"]), market(a="1110000000", b="0111111111"))
    assert result.outage_seconds == 0
    assert dollars(result.cost) == dollars(Decimal(180 + 480) / 3600)
    assert (result.preemptions, result.migrations) == (1, 1)


def test_without_notices_greedy_relaunches_after_the_preemption() -> None:
    result = run(baselines.Greedy(["us-east-1a", "us-east-1b"]), market(a="1110000000", b="0111111111"), notices=False)
    assert result.outage_seconds == 60
    assert dollars(result.cost) == dollars(Decimal(180 + 420) / 3600)


def test_no_capacity_anywhere_falls_back_to_on_demand_and_returns() -> None:
    # 1a down from 120 s to 300 s: notice at 60 s → on-demand warm at 120 s; back to spot launched at 300 s, warm 360 s.
    result = run(baselines.Greedy(["us-east-1a"]), market(a="1100011111"))
    assert result.outage_seconds == 0
    assert result.ondemand_hours == Decimal(300) / 3600
    assert dollars(result.cost) == dollars((Decimal(120 + 300) * 1 + Decimal(300) * 4) / 3600)
    assert result.migrations == 2


def test_billing_has_a_60_second_minimum() -> None:
    # An instance stopped right after its launch is billed one minute.
    m = market(gap=15, a="1" * 40)
    cloud = Cloud(m, CloudSettings(cold_start=15, notice_seconds=15))
    cloud.run(baselines.OnDemandOnly())
    short = cloud.launch("us-east-1a")
    assert short is not None
    cloud.terminate(short)
    assert short.billed_seconds(m.duration) == 60


def test_oracle_is_never_down_when_one_zone_always_has_capacity() -> None:
    m = market(a="1100111000", b="0111100111", c="1111111111")
    result = run(baselines.Oracle(m.zone_names), m)
    assert result.outage_seconds == 0
    assert result.ondemand_hours == 0


def test_markets_reject_traces_of_different_lengths() -> None:
    with pytest.raises(MarketDataError):
        market(a="111", b="11")


def test_the_table_has_one_row_per_policy() -> None:
    result = run(baselines.OnDemandOnly(), market(a="1111"))
    lines = table([result, result]).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| on-demand only | 100.000 | 100.00 | 0 | 0 | 0 |")
