"""Savings figures read from the ledger: day and month roll-ups, rate and projections (domain §5.3-§5.4).

LG-5: these functions read ledger entries (or the daily figures built from them) and nothing else.
LG-7: only priced entries enter sums; the rest show as unpriced hours. LG-8: nothing is clipped at zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.ledger.entry import MONEY_ZERO, EntryAmounts, LedgerEntry, duration_seconds, entry_amounts
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.money import round_money
from spotopt.domain.shared.pools import Mode

MONTH_HOURS: Final = Decimal(730)  # run_rate_month compatibility figure
_HOUR = Decimal(3600)
_DAY = timedelta(days=1)
_PERCENT = Decimal("0.01")
_RATIO = Decimal("0.0001")
_ZERO = Decimal(0)


def _hours(duration: timedelta) -> Decimal:
    return duration_seconds(duration) / _HOUR


def _start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


@dataclass(frozen=True, slots=True)
class SavingsHours:
    """§5.3 hours; ``spot`` and ``ondemand`` split the primary hours by mode; ``priced_primary`` feeds coverage."""

    primary: Decimal = _ZERO
    spot: Decimal = _ZERO
    ondemand: Decimal = _ZERO
    standby: Decimal = _ZERO
    kept_old: Decimal = _ZERO
    unpriced: Decimal = _ZERO
    priced_primary: Decimal = _ZERO

    def __add__(self, other: SavingsHours) -> SavingsHours:
        return SavingsHours(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def coverage(self) -> Decimal | None:
        """Priced primary hours / primary hours (4 dp); None without primary hours."""
        if not self.primary:
            return None
        return (self.priced_primary / self.primary).quantize(_RATIO, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class SavingsFigures:
    """The money, hours and counts every savings roll-up shares (§5.3)."""

    baseline_cost: Decimal = MONEY_ZERO
    primary_cost: Decimal = MONEY_ZERO
    overhead_cost: Decimal = MONEY_ZERO
    hours: SavingsHours = SavingsHours()
    switch_count: int = 0
    failover_count: int = 0

    @property
    def actual_cost(self) -> Decimal:
        return self.primary_cost + self.overhead_cost

    @property
    def savings(self) -> Decimal:
        """``baseline_cost - actual_cost`` (= Σ entry savings); may be negative (LG-8)."""
        return self.baseline_cost - self.actual_cost

    @property
    def savings_percent(self) -> Decimal | None:
        """C-4: 2 dp, may be negative; None when the baseline cost is 0."""
        if not self.baseline_cost:
            return None
        return (self.savings / self.baseline_cost * 100).quantize(_PERCENT, rounding=ROUND_HALF_EVEN)

    @property
    def coverage(self) -> Decimal | None:
        return self.hours.coverage


@dataclass(frozen=True, slots=True, kw_only=True)
class DailySavings(SavingsFigures):
    """SavingsDaily content for one client and UTC day (§5.4); ``final`` is the snapshot's business."""

    day: date
    instance_count: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthlySavings(SavingsFigures):
    """SavingsMonthly content: Σ of the month's daily figures (§5.4)."""

    year: int
    month: int
    days: int


@dataclass(frozen=True, slots=True)
class SavingsProjection:
    """§5.3 current rate and projections at ``now``."""

    hourly_rate: Decimal
    savings_today: Decimal
    projected_day: Decimal
    savings_month_to_date: Decimal
    projected_month: Decimal
    run_rate_month: Decimal
    total_savings: Decimal


def summarise_day(
    entries: Iterable[LedgerEntry],
    day: date,
    *,
    now: datetime | None = None,
    switch_count: int = 0,
    failover_count: int = 0,
) -> DailySavings:
    """§5.3 figures of UTC day D from its entries (LG-5); only priced entries enter the sums (LG-7).

    Closed entries count when they start in D (the ledger splits at midnight, LG-4). Open entries count
    when ``now`` is given, valued up to ``now`` within D (a provisional snapshot of today).
    """
    baseline_cost = primary_cost = overhead_cost = MONEY_ZERO
    spans: dict[str, timedelta] = {}
    instances: set[str] = set()
    for entry, duration, amounts in _day_amounts(entries, _start_of(day), now):
        instances.add(entry.instance_id)
        for key in _hour_keys(entry):
            spans[key] = spans.get(key, timedelta(0)) + duration
        if amounts.savings is None or amounts.cost is None or amounts.baseline_cost is None:
            continue
        if entry.role is InstanceRole.PRIMARY:
            baseline_cost += amounts.baseline_cost
            primary_cost += amounts.cost
        else:
            overhead_cost += amounts.cost
    return DailySavings(
        baseline_cost=baseline_cost,
        primary_cost=primary_cost,
        overhead_cost=overhead_cost,
        hours=SavingsHours(**{key: _hours(span) for key, span in spans.items()}),
        switch_count=switch_count,
        failover_count=failover_count,
        day=day,
        instance_count=len(instances),
    )


def _day_amounts(
    entries: Iterable[LedgerEntry], start: datetime, now: datetime | None
) -> Iterator[tuple[LedgerEntry, timedelta, EntryAmounts]]:
    """Each entry of the day with its duration in the day and its amounts (stored, or valued up to now)."""
    end = start + _DAY
    for entry in entries:
        if entry.ended_at is not None:
            if start <= entry.started_at < end:
                duration = entry.ended_at - entry.started_at
                yield entry, duration, EntryAmounts(_hours(duration), entry.cost, entry.baseline_cost, entry.savings)
        elif now is not None and entry.started_at < end:
            lower, upper = max(entry.started_at, start), min(now, end)
            if lower <= upper:
                yield entry, upper - lower, entry_amounts(entry.role, entry.price, entry.baseline, upper - lower)


_ROLE_HOURS = {InstanceRole.PRIMARY: "primary", InstanceRole.STANDBY: "standby", InstanceRole.KEPT_OLD: "kept_old"}
_MODE_HOURS = {Mode.SPOT: "spot", Mode.ONDEMAND: "ondemand"}


def _hour_keys(entry: LedgerEntry) -> list[str]:
    keys = [_ROLE_HOURS[entry.role]]
    if entry.role is InstanceRole.PRIMARY:
        keys += [_MODE_HOURS[entry.mode]] if entry.mode in _MODE_HOURS else []
        keys += ["priced_primary"] if entry.is_priced else []
    if not entry.is_priced:
        keys.append("unpriced")
    return keys


def summarise_month(days: Iterable[DailySavings], year: int, month: int) -> MonthlySavings:
    """§5.4 SavingsMonthly: Σ of the month's daily figures (a provisional today included); one figure per day."""
    seen: set[date] = set()
    total = SavingsFigures()
    for daily in days:
        if (daily.day.year, daily.day.month) != (year, month) or daily.day in seen:
            raise InvalidValueError("days", f"{daily.day} is not a distinct day of {year}-{month:02d}")
        seen.add(daily.day)
        total = SavingsFigures(
            baseline_cost=total.baseline_cost + daily.baseline_cost,
            primary_cost=total.primary_cost + daily.primary_cost,
            overhead_cost=total.overhead_cost + daily.overhead_cost,
            hours=total.hours + daily.hours,
            switch_count=total.switch_count + daily.switch_count,
            failover_count=total.failover_count + daily.failover_count,
        )
    values = {f.name: getattr(total, f.name) for f in fields(total)}
    return MonthlySavings(**values, year=year, month=month, days=len(seen))


def hourly_rate(entries: Iterable[LedgerEntry]) -> Decimal:
    """§5.3: Σ (baseline - price) of open priced primaries - Σ price of open priced standby and kept-old entries."""
    rates = (entry.hourly_savings for entry in entries if entry.is_open)
    return sum((rate for rate in rates if rate is not None), _ZERO)


def project_savings(
    entries: Iterable[LedgerEntry],
    now: datetime,
    *,
    final_month_savings: Decimal = _ZERO,
    final_total_savings: Decimal = _ZERO,
) -> SavingsProjection:
    """§5.3 rate and projections at ``now`` from today's entries and the open ones.

    ``final_month_savings`` / ``final_total_savings``: Σ of the final daily snapshots before today, of this month
    and of all time.
    """
    entries = list(entries)
    today = now.date()
    rate = hourly_rate(entries)
    savings_today = summarise_day(entries, today, now=now).savings
    next_day = _start_of(today) + _DAY
    next_month = _start_of(date(today.year + today.month // 12, today.month % 12 + 1, 1))
    month_to_date = final_month_savings + savings_today
    return SavingsProjection(
        hourly_rate=rate,
        savings_today=savings_today,
        projected_day=round_money(savings_today + _accrued(rate, next_day - now)),
        savings_month_to_date=month_to_date,
        projected_month=round_money(month_to_date + _accrued(rate, next_month - now)),
        run_rate_month=rate * MONTH_HOURS,
        total_savings=final_total_savings + savings_today,
    )


def _accrued(rate: Decimal, duration: timedelta) -> Decimal:
    return rate * duration_seconds(duration) / _HOUR
