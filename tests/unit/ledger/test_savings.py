"""Savings roll-ups, rate and projections read from the ledger (domain §5.3-§5.4; LG-5, LG-7, LG-8)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole
from spotopt.domain.ledger.accrual import close_entry, open_entry
from spotopt.domain.ledger.entry import CloseReason, LedgerEntry, LedgerPrice
from spotopt.domain.ledger.savings import (
    DailySavings,
    SavingsHours,
    hourly_rate,
    project_savings,
    summarise_day,
    summarise_month,
)
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.pools import Mode

ONDEMAND = Decimal("0.041600")
ZERO = Decimal(0)
DAY = date(2026, 3, 10)
PRIMARY, STANDBY, KEPT_OLD = InstanceRole.PRIMARY, InstanceRole.STANDBY, InstanceRole.KEPT_OLD


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def make_instance(**overrides: object) -> Instance:
    fields: dict[str, object] = {
        "client_id": ClientId("client-1"),
        "instance_id": InstanceId("i-0000000a"),
        "agent_id": AgentId("agent-1"),
        "role": PRIMARY,
        "origin": InstanceOrigin.REGISTERED,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "mode": Mode.SPOT,
        "first_seen_at": at(1),
        "role_changed_at": at(1),
    }
    fields.update(overrides)
    return Instance(**fields)  # type: ignore[arg-type]


def make_entry(
    start: datetime,
    end: datetime | None,
    *,
    quote: str | None = "0.012500",
    baseline: Decimal | None = ONDEMAND,
    **instance: object,
) -> LedgerEntry:
    """An entry of one instance over ``[start, end]`` (left open when ``end`` is None)."""
    price = LedgerPrice(None if quote is None else Decimal(quote))
    entry = open_entry(make_instance(**instance), start, start, price=price, baseline=baseline).current
    assert entry is not None
    if end is not None:
        close_entry(entry, end, CloseReason.TERMINATED, end)
    return entry


def test_5_3_an_empty_day_gives_zeros_and_nulls() -> None:
    day = summarise_day([], DAY)
    assert (day.baseline_cost, day.actual_cost, day.savings, day.instance_count) == (ZERO, ZERO, ZERO, 0)
    assert (day.savings_percent, day.coverage, day.hours) == (None, None, SavingsHours())


def test_5_3_savings_percent_is_null_when_the_baseline_cost_is_zero() -> None:
    standby = make_entry(at(10, 8), at(10, 9), role=STANDBY, baseline=None)
    day = summarise_day([standby], DAY)
    assert (day.overhead_cost, day.savings, day.savings_percent) == (
        Decimal("0.01250000"),
        Decimal("-0.01250000"),
        None,
    )


def test_lg7_unpriced_entries_stay_out_of_sums_and_show_as_unpriced_hours() -> None:
    priced = make_entry(at(10, 0), at(10, 3))
    no_baseline = make_entry(at(10, 3), at(10, 4), baseline=None)
    no_price = make_entry(at(10, 4), at(10, 5), quote=None, role=STANDBY, baseline=None)
    day = summarise_day([priced, no_baseline, no_price], DAY)
    assert (day.baseline_cost, day.primary_cost, day.overhead_cost) == (priced.baseline_cost, priced.cost, ZERO)
    assert (day.hours.primary, day.hours.standby, day.hours.unpriced) == (Decimal(4), Decimal(1), Decimal(2))
    assert (day.coverage, day.instance_count) == (Decimal("0.75"), 1)


def test_lg5_day_figures_sum_stored_entry_amounts_not_a_recomputation() -> None:
    # Three 20-minute entries each round 0.000003333… to 0.00000333 (C-3); the day sums what was stored.
    starts = [at(10, 1, 0), at(10, 1, 20), at(10, 1, 40), at(10, 2, 0)]
    thirds = [make_entry(a, b, quote="0.000010") for a, b in itertools.pairwise(starts)]
    day = summarise_day(thirds, DAY)
    assert day.primary_cost == Decimal("0.00000999") == sum((e.cost or ZERO for e in thirds), ZERO)
    assert day.savings == sum((e.savings or ZERO for e in thirds), ZERO)


def test_5_3_spot_and_ondemand_hours_split_primary_hours_by_mode() -> None:
    spot = make_entry(at(10, 0), at(10, 2))
    ondemand = make_entry(at(10, 2), at(10, 3), quote="0.041600", mode=Mode.ONDEMAND)
    unknown = make_entry(at(10, 3), at(10, 4), quote=None, mode=Mode.UNKNOWN)
    hours = summarise_day([spot, ondemand, unknown], DAY).hours
    assert (hours.primary, hours.spot, hours.ondemand, hours.priced_primary) == (
        Decimal(4),
        Decimal(2),
        Decimal(1),
        Decimal(3),
    )


def test_5_3_only_entries_of_the_day_count() -> None:
    before = make_entry(at(9, 22), at(10, 0))
    after = make_entry(at(11, 0), at(11, 1), instance_id=InstanceId("i-0000000b"))
    inside = make_entry(at(10, 5), at(10, 6), instance_id=InstanceId("i-0000000c"))
    day = summarise_day([before, after, inside], DAY)
    assert (day.primary_cost, day.instance_count) == (inside.cost, 1)


def test_5_3_open_entries_are_valued_up_to_now_in_a_provisional_day() -> None:
    entry = make_entry(at(10, 0), None, quote="0.013100")
    assert summarise_day([entry], DAY).instance_count == 0
    day = summarise_day([entry], DAY, now=at(10, 12))
    assert (day.savings, day.hours.primary, day.instance_count) == (Decimal("0.34200000"), Decimal(12), 1)
    assert entry.is_open


def test_5_3_counts_are_passed_through() -> None:
    day = summarise_day([], DAY, switch_count=2, failover_count=1)
    assert (day.switch_count, day.failover_count) == (2, 1)


def test_5_3_hourly_rate_counts_open_priced_entries_only() -> None:
    primary = make_entry(at(10, 0), None)
    standby = make_entry(at(10, 0), None, role=STANDBY, quote="0.013100", baseline=None)
    closed = make_entry(at(10, 0), at(10, 1), instance_id=InstanceId("i-0000000b"))
    unpriced = make_entry(at(10, 0), None, baseline=None, instance_id=InstanceId("i-0000000c"))
    assert hourly_rate([primary, standby, closed, unpriced]) == Decimal("0.0291") - Decimal("0.0131")


def test_5_3_projections_mid_day() -> None:
    entry = make_entry(at(10, 0), None, quote="0.013100")
    projection = project_savings(
        [entry], at(10, 12), final_month_savings=Decimal("6.50"), final_total_savings=Decimal("40")
    )
    assert projection.savings_today == Decimal("0.34200000")
    assert projection.projected_day == Decimal("0.684")
    assert projection.savings_month_to_date == Decimal("6.842")
    assert projection.projected_month == Decimal("6.842") + Decimal("0.0285") * (12 + 21 * 24)
    assert projection.total_savings == Decimal("40.342")


def test_5_3_projected_month_rolls_over_the_year_end() -> None:
    start = datetime(2026, 12, 31, 0, tzinfo=UTC)
    entry = make_entry(start, None, quote="0.013100", first_seen_at=start)
    projection = project_savings([entry], datetime(2026, 12, 31, 12, tzinfo=UTC))
    assert projection.projected_month == projection.projected_day == Decimal("0.684")


def test_lg8_negative_rates_are_not_clipped() -> None:
    entry = make_entry(at(10, 0), None, role=KEPT_OLD, quote="0.013100", baseline=None)
    projection = project_savings([entry], at(10, 12))
    assert (projection.hourly_rate, projection.savings_today) == (Decimal("-0.0131"), Decimal("-0.15720000"))
    assert projection.run_rate_month == Decimal("-9.563")


def make_daily(day: date, **overrides: object) -> DailySavings:
    fields: dict[str, object] = {
        "baseline_cost": Decimal("1.00000000"),
        "primary_cost": Decimal("0.30000000"),
        "overhead_cost": Decimal("0.01000000"),
        "hours": SavingsHours(primary=Decimal(24), spot=Decimal(24), priced_primary=Decimal(24)),
        "switch_count": 1,
        "failover_count": 0,
        "day": day,
        "instance_count": 1,
    }
    fields.update(overrides)
    return DailySavings(**fields)  # type: ignore[arg-type]


def test_5_4_monthly_figures_are_sums_of_daily_figures() -> None:
    unpriced_day = make_daily(
        date(2026, 3, 2),
        baseline_cost=ZERO,
        primary_cost=ZERO,
        hours=SavingsHours(primary=Decimal(24), unpriced=Decimal(24)),
        failover_count=1,
    )
    month = summarise_month([make_daily(date(2026, 3, 1)), unpriced_day], 2026, 3)
    assert (month.baseline_cost, month.actual_cost, month.savings) == (
        Decimal(1),
        Decimal("0.32"),
        Decimal("0.68"),
    )
    assert (month.savings_percent, month.coverage) == (Decimal("68.00"), Decimal("0.5"))
    assert (month.switch_count, month.failover_count, month.days) == (2, 1, 2)
    assert (month.hours.primary, month.hours.unpriced) == (Decimal(48), Decimal(24))


@pytest.mark.parametrize("day", [date(2026, 4, 1), date(2026, 3, 1)], ids=["other-month", "duplicate"])
def test_5_4_monthly_roll_up_takes_each_day_of_the_month_once(day: date) -> None:
    with pytest.raises(InvalidValueError):
        summarise_month([make_daily(date(2026, 3, 1)), make_daily(day)], 2026, 3)


def test_5_4_an_empty_month_gives_zeros() -> None:
    month = summarise_month([], 2026, 3)
    assert (month.savings, month.savings_percent, month.days) == (ZERO, None, 0)
