"""Savings and client-growth snapshots (domain §5.4): the rows the snapshot jobs store, built from the ledger.

A snapshot only copies figures that ``savings.summarise_day`` / ``summarise_month`` computed from ledger entries
(LG-5). A final snapshot is never overwritten (§7.2, only an administrator's recompute may).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from spotopt.domain.ledger.entry import MONEY_ZERO
from spotopt.domain.ledger.savings import DailySavings, MonthlySavings, SavingsFigures, SavingsHours
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId

BACKFILL_DAYS: Final = 35  # JB-2
HOURS_QUANTUM: Final = Decimal("0.0000000001")
_DAY = timedelta(days=1)
_ZERO = Decimal(0)


def day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


def day_end(day: date) -> datetime:
    """The exclusive end of UTC day ``day`` (the next midnight)."""
    return day_start(day) + _DAY


def days_between(first: date, last: date) -> Iterator[date]:
    """Every date of ``[first, last]`` (empty when ``last < first``)."""
    day = first
    while day <= last:
        yield day
        day += _DAY


def month_days(year: int, month: int) -> tuple[date, date]:
    """First and last date of a month."""
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - _DAY


def backfill_window(today: date) -> tuple[date, date]:
    """JB-2: the snapshot jobs fill in every missing date of the last 35 days (today excluded)."""
    return today - timedelta(days=BACKFILL_DAYS), today - _DAY


@dataclass(frozen=True, slots=True)
class ClientLifetime:
    """When a client existed: from ``created_at`` until ``deleted_at`` (CL-6 soft delete), the growth inputs."""

    client_id: ClientId
    created_at: datetime
    deleted_at: datetime | None = None

    def existed_during(self, day: date) -> bool:
        """The client existed at some moment of UTC day ``day``."""
        return self.created_at < day_end(day) and (self.deleted_at is None or self.deleted_at >= day_start(day))

    def days_within(self, first: date, last: date) -> list[date]:
        return [day for day in days_between(first, last) if self.existed_during(day)]


def _hours(value: Decimal) -> Decimal:
    return value.quantize(HOURS_QUANTUM, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotFigures:
    """The §5.3 figures a snapshot row stores; the derived ones (actual cost, savings, percent, coverage) are kept
    for the read side (C18, C20, C21) and always agree with the sums they derive from.
    """

    baseline_cost: Decimal = MONEY_ZERO
    primary_cost: Decimal = MONEY_ZERO
    overhead_cost: Decimal = MONEY_ZERO
    actual_cost: Decimal = MONEY_ZERO
    savings: Decimal = MONEY_ZERO
    savings_percent: Decimal | None = None
    primary_hours: Decimal = _ZERO
    spot_hours: Decimal = _ZERO
    ondemand_hours: Decimal = _ZERO
    standby_hours: Decimal = _ZERO
    kept_old_hours: Decimal = _ZERO
    unpriced_hours: Decimal = _ZERO
    priced_primary_hours: Decimal = _ZERO
    coverage: Decimal | None = None
    switch_count: int = 0
    failover_count: int = 0

    def __post_init__(self) -> None:
        """§5.3: ``actual = primary + overhead`` and ``savings = baseline - actual`` (LG-8: may be negative)."""
        if self.actual_cost != self.primary_cost + self.overhead_cost:
            raise InvalidValueError("actual_cost", "must equal primary_cost + overhead_cost")
        if self.savings != self.baseline_cost - self.actual_cost:
            raise InvalidValueError("savings", "must equal baseline_cost - actual_cost")

    @classmethod
    def of(cls, figures: SavingsFigures) -> SnapshotFigures:
        hours = figures.hours
        return cls(
            baseline_cost=figures.baseline_cost,
            primary_cost=figures.primary_cost,
            overhead_cost=figures.overhead_cost,
            actual_cost=figures.actual_cost,
            savings=figures.savings,
            savings_percent=figures.savings_percent,
            primary_hours=_hours(hours.primary),
            spot_hours=_hours(hours.spot),
            ondemand_hours=_hours(hours.ondemand),
            standby_hours=_hours(hours.standby),
            kept_old_hours=_hours(hours.kept_old),
            unpriced_hours=_hours(hours.unpriced),
            priced_primary_hours=_hours(hours.priced_primary),
            coverage=figures.coverage,
            switch_count=figures.switch_count,
            failover_count=figures.failover_count,
        )

    @property
    def hours(self) -> SavingsHours:
        return SavingsHours(
            primary=self.primary_hours,
            spot=self.spot_hours,
            ondemand=self.ondemand_hours,
            standby=self.standby_hours,
            kept_old=self.kept_old_hours,
            unpriced=self.unpriced_hours,
            priced_primary=self.priced_primary_hours,
        )


@dataclass(eq=False, slots=True, kw_only=True)
class SavingsDailySnapshot:
    """SavingsDaily, keyed ``(client_id, day)``: provisional for today (and for a day whose ledger is still open),
    final once every entry of the day is closed.
    """

    client_id: ClientId
    day: date
    figures: SnapshotFigures
    instance_count: int
    final: bool
    computed_at: datetime

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SavingsDailySnapshot) and (other.client_id, other.day) == (self.client_id, self.day)

    def __hash__(self) -> int:
        return hash((self.client_id, self.day))

    @classmethod
    def of(cls, client_id: ClientId, daily: DailySavings, *, final: bool, now: datetime) -> SavingsDailySnapshot:
        return cls(
            client_id=client_id, day=daily.day, figures=SnapshotFigures.of(daily),
            instance_count=daily.instance_count, final=final, computed_at=now,
        )  # fmt: skip

    @property
    def savings(self) -> DailySavings:
        """The stored figures as the domain's daily roll-up (to sum a month, §5.4)."""
        f = self.figures
        return DailySavings(
            baseline_cost=f.baseline_cost, primary_cost=f.primary_cost, overhead_cost=f.overhead_cost,
            hours=f.hours, switch_count=f.switch_count, failover_count=f.failover_count,
            day=self.day, instance_count=self.instance_count,
        )  # fmt: skip

    def revise(self, fresh: SavingsDailySnapshot) -> bool:
        """§7.2: a final snapshot is never overwritten; otherwise take the fresh figures. True when revised."""
        if self.final or (fresh.client_id, fresh.day) != (self.client_id, self.day):
            return False
        self.figures, self.instance_count = fresh.figures, fresh.instance_count
        self.final, self.computed_at = fresh.final, fresh.computed_at
        return True


@dataclass(eq=False, slots=True, kw_only=True)
class SavingsMonthlySnapshot:
    """SavingsMonthly, keyed ``(client_id, year, month)``: Σ of the month's daily figures (+ provisional today)."""

    client_id: ClientId
    year: int
    month: int
    figures: SnapshotFigures
    days: int
    final: bool
    computed_at: datetime

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SavingsMonthlySnapshot) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> tuple[ClientId, int, int]:
        return self.client_id, self.year, self.month

    @classmethod
    def of(cls, client_id: ClientId, monthly: MonthlySavings, *, final: bool, now: datetime) -> SavingsMonthlySnapshot:
        return cls(
            client_id=client_id, year=monthly.year, month=monthly.month, figures=SnapshotFigures.of(monthly),
            days=monthly.days, final=final, computed_at=now,
        )  # fmt: skip

    def revise(self, fresh: SavingsMonthlySnapshot) -> bool:
        """§7.2: a final snapshot is never overwritten; otherwise take the fresh figures. True when revised."""
        if self.final or fresh.key != self.key:
            return False
        self.figures, self.days = fresh.figures, fresh.days
        self.final, self.computed_at = fresh.final, fresh.computed_at
        return True


@dataclass(eq=False, slots=True, kw_only=True)
class ClientGrowthSnapshot:
    """ClientGrowthDaily, keyed by ``day``; ``active_clients`` is None for back-filled dates (it cannot be known)."""

    day: date
    total_clients: int
    new_clients: int
    active_clients: int | None
    computed_at: datetime

    def __post_init__(self) -> None:
        for name in ("total_clients", "new_clients", "active_clients"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidValueError(name, "must be >= 0")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientGrowthSnapshot) and other.day == self.day

    def __hash__(self) -> int:
        return hash(self.day)


def savings_computed(client_id: ClientId, days: Sequence[date], months: Sequence[tuple[int, int]]) -> DomainEvent:
    """§7.2 event of a snapshot run that finalised figures of a client (system event only)."""
    day_list = [d.isoformat() for d in days]
    month_list = [f"{y:04d}-{m:02d}" for y, m in months]
    return DomainEvent(
        type="savings_computed",
        severity=Severity.INFO,
        message=f"Final savings computed for {len(day_list)} day(s) and {len(month_list)} month(s).",
        client_id=client_id,
        metadata={"days": day_list, "months": month_list},
    )


def savings_computation_failed(client_id: ClientId, error: str) -> DomainEvent:
    """§7.2 event of a snapshot run that could not compute a client's figures (system event only)."""
    return DomainEvent(
        type="savings_computation_failed",
        severity=Severity.ERROR,
        message=f"Savings snapshot failed: {error}",
        client_id=client_id,
        metadata={"error": error},
    )
