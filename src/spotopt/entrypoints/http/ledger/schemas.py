"""Wire shapes of the savings routes C18, C20 and the C21 CSV columns (money: 4 decimals in JSON, 8 in CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec

from spotopt.application.ledger.get_client_savings import GetClientSavingsResult
from spotopt.application.ledger.get_savings_charts import GetSavingsChartsResult
from spotopt.application.ledger.savings_views import DayFigures
from spotopt.entrypoints.http.csv_export import Cell
from spotopt.entrypoints.http.wire import num

MONEY = 4  # §1.7: the wire shows at most 4 decimals of money
HOURS = 4


def money(value: Decimal) -> float:
    return num(value, MONEY) or 0.0


def _opt(value: Decimal | None, places: int) -> float | None:
    return num(value, places)


class SavingsHoursResponse(msgspec.Struct, kw_only=True):
    primary: float
    spot: float
    ondemand: float
    standby: float
    kept_old: float
    unpriced: float


class ClientSavingsResponse(msgspec.Struct, kw_only=True, rename={"from_": "from"}):
    days: int
    from_: str
    to: str
    final_through: str | None
    baseline_cost: float
    primary_cost: float
    overhead_cost: float
    actual_cost: float
    savings: float
    savings_percent: float | None
    hours: SavingsHoursResponse
    coverage: float | None
    switch_count: int
    failover_count: int
    savings_today: float
    hourly_rate: float
    projected_day: float
    savings_month_to_date: float
    projected_month: float
    run_rate_month: float
    total_savings: float


def savings_response(days: int, result: GetClientSavingsResult) -> ClientSavingsResponse:
    s, w, p = result.savings, result.savings.window, result.savings.projection
    return ClientSavingsResponse(
        days=days,
        from_=s.first.isoformat(),
        to=s.last.isoformat(),
        final_through=s.final_through.isoformat() if s.final_through else None,
        baseline_cost=money(w.baseline_cost),
        primary_cost=money(w.primary_cost),
        overhead_cost=money(w.overhead_cost),
        actual_cost=money(w.actual_cost),
        savings=money(w.savings),
        savings_percent=_opt(w.savings_percent, 2),
        hours=SavingsHoursResponse(
            primary=money_hours(w.primary_hours),
            spot=money_hours(w.spot_hours),
            ondemand=money_hours(w.ondemand_hours),
            standby=money_hours(w.standby_hours),
            kept_old=money_hours(w.kept_old_hours),
            unpriced=money_hours(w.unpriced_hours),
        ),
        coverage=_opt(w.coverage, 4),
        switch_count=result.switch_count,
        failover_count=result.failover_count,
        savings_today=money(p.savings_today),
        hourly_rate=num(p.hourly_rate, 6) or 0.0,
        projected_day=money(p.projected_day),
        savings_month_to_date=money(p.savings_month_to_date),
        projected_month=money(p.projected_month),
        run_rate_month=money(p.run_rate_month),
        total_savings=money(p.total_savings),
    )


def money_hours(value: Decimal) -> float:
    return num(value, HOURS) or 0.0


class DailySavingsPoint(msgspec.Struct, kw_only=True):
    date: str
    final: bool
    savings: float
    baseline_cost: float
    actual_cost: float
    switches: int
    failovers: int


class ModeCount(msgspec.Struct, kw_only=True):
    mode: str
    count: int


class OriginCount(msgspec.Struct, kw_only=True):
    origin: str
    count: int


class SavingsChartsResponse(msgspec.Struct, kw_only=True):
    days: int
    daily_savings: list[DailySavingsPoint]
    mode_distribution: list[ModeCount]
    switch_origins: list[OriginCount]


def charts_response(result: GetSavingsChartsResult) -> SavingsChartsResponse:
    return SavingsChartsResponse(
        days=result.days,
        daily_savings=[
            DailySavingsPoint(
                date=d.day.isoformat(),
                final=d.final,
                savings=money(d.figures.savings),
                baseline_cost=money(d.figures.baseline_cost),
                actual_cost=money(d.figures.actual_cost),
                switches=d.figures.switch_count,
                failovers=d.figures.failover_count,
            )
            for d in result.daily
        ],
        mode_distribution=[ModeCount(mode=m, count=n) for m, n in result.mode_distribution],
        switch_origins=[OriginCount(origin=o, count=n) for o, n in result.switch_origins],
    )


SAVINGS_CSV_HEADER = [
    "date",
    "final",
    "baseline_cost",
    "primary_cost",
    "overhead_cost",
    "actual_cost",
    "savings",
    "savings_percent",
    "primary_hours",
    "spot_hours",
    "ondemand_hours",
    "standby_hours",
    "kept_old_hours",
    "unpriced_hours",
    "coverage",
    "switch_count",
    "failover_count",
    "instance_count",
]


def savings_csv_rows(days: Sequence[DayFigures]) -> list[list[Cell]]:
    """C21: one row per day, oldest first, money at the ledger's 8 decimals."""
    rows: list[list[Cell]] = []
    for d in days:
        f = d.figures
        rows.append([
            d.day, d.final, f.baseline_cost, f.primary_cost, f.overhead_cost, f.actual_cost, f.savings,
            f.savings_percent, f.primary_hours, f.spot_hours, f.ondemand_hours, f.standby_hours, f.kept_old_hours,
            f.unpriced_hours, f.coverage, f.switch_count, f.failover_count, d.instance_count,
        ])  # fmt: skip
    return rows
