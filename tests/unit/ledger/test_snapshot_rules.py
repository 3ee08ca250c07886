"""Snapshot rows and their calendar helpers (domain §5.4, JB-2, LG-8)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.ledger.savings import DailySavings, SavingsHours, summarise_month
from spotopt.domain.ledger.snapshots import (
    ClientLifetime,
    SavingsDailySnapshot,
    SnapshotFigures,
    backfill_window,
    days_between,
    month_days,
)
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId

CLIENT = ClientId("client-1")
money = st.decimals(min_value=-100, max_value=100, places=8, allow_nan=False, allow_infinity=False)
hours = st.decimals(min_value=0, max_value=48, places=6, allow_nan=False, allow_infinity=False)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@given(baseline=money, primary=money, overhead=money, primary_hours=hours, standby_hours=hours)
def test_snapshot_figures_keep_the_ledger_sums_and_round_trip_to_daily_savings(
    baseline: Decimal, primary: Decimal, overhead: Decimal, primary_hours: Decimal, standby_hours: Decimal
) -> None:
    daily = DailySavings(
        baseline_cost=baseline, primary_cost=primary, overhead_cost=overhead,
        hours=SavingsHours(primary=primary_hours, standby=standby_hours, priced_primary=primary_hours),
        day=date(2026, 3, 10),
    )  # fmt: skip
    snapshot = SavingsDailySnapshot.of(CLIENT, daily, final=True, now=at(11))

    assert snapshot.figures.savings == daily.savings == baseline - primary - overhead  # LG-8: sign kept
    assert snapshot.figures.savings_percent == daily.savings_percent
    assert snapshot.savings == daily
    assert summarise_month([snapshot.savings], 2026, 3).savings == daily.savings


def test_snapshot_figures_refuse_inconsistent_sums() -> None:
    with pytest.raises(InvalidValueError):
        SnapshotFigures(primary_cost=Decimal(1), overhead_cost=Decimal(1), actual_cost=Decimal(1))
    with pytest.raises(InvalidValueError):
        SnapshotFigures(baseline_cost=Decimal(3), savings=Decimal(3), actual_cost=Decimal(0), primary_cost=Decimal(1))


def test_client_lifetime_covers_the_days_it_existed_at_any_moment() -> None:
    client = ClientLifetime(CLIENT, created_at=at(3, 23), deleted_at=at(6))

    assert client.days_within(date(2026, 3, 1), date(2026, 3, 9)) == [date(2026, 3, d) for d in (3, 4, 5, 6)]
    assert ClientLifetime(CLIENT, at(3)).existed_during(date(2026, 3, 2)) is False


def test_jb2_backfill_window_is_the_35_days_before_today() -> None:
    first, last = backfill_window(date(2026, 3, 10))

    assert (first, last) == (date(2026, 2, 3), date(2026, 3, 9))
    assert len(list(days_between(first, last))) == 35


def test_month_days_handle_february_and_december() -> None:
    assert month_days(2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_days(2026, 12) == (date(2026, 12, 1), date(2026, 12, 31))
