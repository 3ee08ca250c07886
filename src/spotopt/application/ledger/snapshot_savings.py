"""The savings snapshot jobs (domain §5.4, §7.2 "Snapshots"): SavingsDaily and SavingsMonthly from the ledger."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.ledger.savings import DailySavings, summarise_day, summarise_month
from spotopt.domain.ledger.snapshots import (
    ClientLifetime,
    SavingsDailySnapshot,
    SavingsMonthlySnapshot,
    backfill_window,
    day_end,
    day_start,
    month_days,
    savings_computation_failed,
    savings_computed,
)
from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.ids import ClientId

DEFAULT_BATCH_SIZE = 100


class SnapshotKind(StrEnum):
    DAILY = "daily"
    MONTHLY = "monthly"


def daily_key(client_id: ClientId, day: date) -> str:
    """§7.2 idempotency key ``savings-daily:<client>:<date>``."""
    return f"savings-daily:{client_id}:{day.isoformat()}"


def monthly_key(client_id: ClientId, year: int, month: int) -> str:
    """§7.2 idempotency key ``savings-monthly:<client>:<yyyy-mm>``."""
    return f"savings-monthly:{client_id}:{year:04d}-{month:02d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotSavingsCommand:
    """One bounded batch (JB-5) of at most ``limit`` clients after ``after`` (keyset), for the given ``kinds``."""

    kinds: frozenset[SnapshotKind] = frozenset(SnapshotKind)
    after: ClientId | None = None
    limit: int = DEFAULT_BATCH_SIZE


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotSavingsResult:
    """Counts for the job-run summary (JB-4). ``deferred``: past days or months left provisional because an entry
    of them is still open (the accrual job has not rolled its midnight yet; a later run finalises them).
    """

    clients: int = 0
    daily_final: int = 0
    daily_provisional: int = 0
    monthly_final: int = 0
    monthly_provisional: int = 0
    deferred: int = 0
    failed: tuple[ClientId, ...] = ()
    next_after: ClientId | None = None


class SnapshotSavings:
    """- Daily (SavingsDaily): every day of the last 35 without a final snapshot is computed (JB-2) — final once the
      day is over and all its entries are closed, else provisional; today is always provisional (hh:20), D−1 becomes
      final at 00:15 or on the first run after the accrual rolled midnight.
    - Monthly (SavingsMonthly): Σ of the month's daily figures (final snapshots, else the ledger) plus provisional
      today; an ended month whose days are all final becomes final (on the 1st at 00:25, or when back-filled).
    - Figures come from ledger entries only (LG-5, ``summarise_day``); a final snapshot is never overwritten.
    - Only days on which the client existed are written. One client per transaction; event ``savings_computed``
      when finals were written, ``savings_computation_failed`` (error) when a client fails (JB-3).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: SnapshotSavingsCommand) -> SnapshotSavingsResult:
        now = self._clock.now()
        clients = await self._uow.snapshots.client_lifetimes(command.limit, after=command.after)
        tally: Counter[str] = Counter()
        failed: list[ClientId] = []
        for client in clients:
            try:
                tally += await self._snapshot(client, command.kinds, now)
            except DomainError as exc:
                await self._uow.rollback()
                failed.append(client.client_id)
                await record_events(self._uow, [savings_computation_failed(client.client_id, exc.message)], now)
                await self._uow.commit()
        return SnapshotSavingsResult(
            clients=len(clients),
            **{key: tally[key] for key in _COUNTS},
            failed=tuple(failed),
            next_after=clients[-1].client_id if len(clients) >= command.limit else None,
        )

    async def _snapshot(self, client: ClientLifetime, kinds: frozenset[SnapshotKind], now: datetime) -> Counter[str]:
        run = _ClientRun(self._uow, client, now)
        await run.load()
        if SnapshotKind.DAILY in kinds:
            await run.daily()
        if SnapshotKind.MONTHLY in kinds:
            await run.monthly()
        if run.final_days or run.final_months:
            await record_events(self._uow, [savings_computed(client.client_id, run.final_days, run.final_months)], now)
        await self._uow.commit()
        return run.tally


_COUNTS = ("daily_final", "daily_provisional", "monthly_final", "monthly_provisional", "deferred")


class _ClientRun:
    """One client's snapshot run: the stored daily snapshots it may need are read once and kept up to date here
    (new rows are written only at commit), and each day is summarised from the ledger at most once.
    """

    def __init__(self, uow: UnitOfWork, client: ClientLifetime, now: datetime) -> None:
        self._uow = uow
        self._client = client
        self._now = now
        self._today = now.date()
        self._stored: dict[date, SavingsDailySnapshot] = {}
        self._ledger_days: dict[date, tuple[DailySavings, bool]] = {}
        self.tally: Counter[str] = Counter()
        self.final_days: list[date] = []
        self.final_months: list[tuple[int, int]] = []

    async def load(self) -> None:
        first, _ = backfill_window(self._today)
        month_first, _ = month_days(first.year, first.month)
        stored = await self._uow.snapshots.list_daily(self._client.client_id, month_first, self._today)
        self._stored = {s.day: s for s in stored}

    async def daily(self) -> None:
        """JB-2: every past day of the window lacking a final snapshot, then today's provisional one."""
        for day in self._client.days_within(*backfill_window(self._today)):
            if self._is_final(day):
                continue
            figures, complete = await self._ledger_day(day)
            await self._write_daily(day, figures, final=complete)
        if self._client.existed_during(self._today):
            figures, _ = await self._ledger_day(self._today)
            await self._write_daily(self._today, figures, final=False)

    async def monthly(self) -> None:
        """The current month (provisional) and every ended month of the window lacking a final snapshot."""
        first, last = backfill_window(self._today)
        months = {(d.year, d.month) for d in self._client.days_within(first, last)}
        if self._client.existed_during(self._today):
            months.add((self._today.year, self._today.month))
        for year, month in sorted(months):
            existing = await self._uow.snapshots.get_monthly(self._client.client_id, year, month)
            if existing is None or not existing.final:
                await self._write_month(existing, year, month)

    async def _write_month(self, existing: SavingsMonthlySnapshot | None, year: int, month: int) -> None:
        first, last = month_days(year, month)
        complete = last < self._today
        days: list[DailySavings] = []
        for day in self._client.days_within(first, min(last, self._today)):
            stored = self._stored.get(day)
            if stored is not None and stored.final:
                days.append(stored.savings)
                continue
            figures, day_complete = await self._ledger_day(day)
            days.append(figures)
            complete = complete and day_complete
        fresh = SavingsMonthlySnapshot.of(
            self._client.client_id, summarise_month(days, year, month), final=complete, now=self._now
        )
        if existing is None:
            await self._uow.snapshots.add_monthly(fresh)
        elif not existing.revise(fresh):
            return
        self._count("monthly", complete, ended=last < self._today)
        if complete:
            self.final_months.append((year, month))

    async def _write_daily(self, day: date, figures: DailySavings, *, final: bool) -> None:
        fresh = SavingsDailySnapshot.of(self._client.client_id, figures, final=final, now=self._now)
        existing = self._stored.get(day)
        if existing is None:
            await self._uow.snapshots.add_daily(fresh)
            self._stored[day] = fresh
        elif not existing.revise(fresh):
            return
        self._count("daily", final, ended=day < self._today)
        if final:
            self.final_days.append(day)

    def _count(self, kind: str, final: bool, *, ended: bool) -> None:
        self.tally[f"{kind}_{'final' if final else 'provisional'}"] += 1
        if ended and not final:
            self.tally["deferred"] += 1

    def _is_final(self, day: date) -> bool:
        stored = self._stored.get(day)
        return stored is not None and stored.final

    async def _ledger_day(self, day: date) -> tuple[DailySavings, bool]:
        """§5.3 figures of ``day`` from its entries (open ones valued up to now), and whether they are final: the
        day is over and every entry of it is closed (LG-2 makes them immutable from then on).
        """
        if day not in self._ledger_days:
            client_id, start, end = self._client.client_id, day_start(day), day_end(day)
            entries = await self._uow.ledger.entries_for_day(client_id, day)
            figures = summarise_day(
                entries,
                day,
                now=min(self._now, end),
                switch_count=await self._uow.snapshots.count_switches(client_id, start, end),
                failover_count=await self._uow.snapshots.count_failovers(client_id, start, end),
            )
            complete = end <= self._now and not any(e.is_open for e in entries)
            self._ledger_days[day] = (figures, complete)
        return self._ledger_days[day]
