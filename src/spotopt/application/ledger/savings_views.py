"""The one read service behind every savings figure on the wire (C18, C20, C21, M1, M5, M7, M13).

LG-5: a day's figures are its final SavingsDaily snapshot when there is one, else they are summarised from the
ledger entries of that day right now (open entries valued up to now, as the provisional snapshot would be).
Totals (§5.3 ``total_savings``) are Σ of the final snapshots plus, for the days of the JB-2 back-fill window that
have no final snapshot yet (today, and a past day the snapshot job has not finalised), their ledger figures — so a
day is counted exactly once and never lost between midnight and its final snapshot. Every route reads through this
service, so their figures cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from spotopt.application.ports.savings_views import SavingsViews
from spotopt.domain.ledger.entry import MONEY_ZERO, LedgerEntry
from spotopt.domain.ledger.savings import SavingsFigures, SavingsProjection, project_savings, summarise_day
from spotopt.domain.ledger.snapshots import (
    BACKFILL_DAYS,
    SavingsDailySnapshot,
    SnapshotFigures,
    day_end,
    day_start,
    days_between,
)
from spotopt.domain.shared.ids import ClientId

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class DayFigures:
    """One UTC day of one client: the final snapshot's figures, or the ledger's figures now (``final`` false)."""

    day: date
    final: bool
    figures: SnapshotFigures
    instance_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientSavings:
    """A client's ledger window (``first`` … ``last`` = today, oldest first), its sums and the projections at now."""

    client_id: ClientId
    first: date
    last: date
    days: tuple[DayFigures, ...]
    window: SnapshotFigures
    final_through: date | None
    projection: SavingsProjection


@dataclass(frozen=True, slots=True, kw_only=True)
class SavingsTotals:
    """Per client: ``total_savings`` (§5.3) and the savings of the ledger window of ``days`` days."""

    total_savings: Decimal = MONEY_ZERO
    window_savings: Decimal = MONEY_ZERO


def ledger_window(today: date, days: int) -> tuple[date, date]:
    """§1.8 ledger window: the ``days`` most recent UTC days ending today."""
    return today - timedelta(days=days - 1), today


def sum_figures(days: Iterable[SnapshotFigures]) -> SnapshotFigures:
    """Σ of daily figures (money exact at 8 dp, hours at 10 dp); percent and coverage derived from the sums."""
    total = SavingsFigures()
    for f in days:
        total = SavingsFigures(
            baseline_cost=total.baseline_cost + f.baseline_cost,
            primary_cost=total.primary_cost + f.primary_cost,
            overhead_cost=total.overhead_cost + f.overhead_cost,
            hours=total.hours + f.hours,
            switch_count=total.switch_count + f.switch_count,
            failover_count=total.failover_count + f.failover_count,
        )
    return SnapshotFigures.of(total)


class SavingsReader:
    """Reads savings figures for one client (the whole picture) or many (totals). Never writes, never commits."""

    def __init__(self, views: SavingsViews) -> None:
        self._views = views

    async def client(self, client_id: ClientId, days: int, now: datetime) -> ClientSavings:
        """C18/C20/C21: the window's days, their sums and the §5.3 rate and projections at ``now``."""
        today = now.date()
        first, last = ledger_window(today, days)
        span_first = min(first, today - timedelta(days=BACKFILL_DAYS), date(today.year, today.month, 1))
        book = await _Book.load(self._views, [client_id], span_first, now)
        figures = {
            day: await book.day(client_id, day, with_counts=first <= day) for day in days_between(span_first, last)
        }
        window = tuple(figures[day] for day in days_between(first, last))
        month_before_today = sum(
            (
                f.figures.savings
                for d, f in figures.items()
                if (d.year, d.month) == (today.year, today.month) and d < today
            ),
            MONEY_ZERO,
        )
        total_before_today = book.before[client_id] + sum(
            (f.figures.savings for d, f in figures.items() if d < today), MONEY_ZERO
        )
        projection = project_savings(
            book.entries[client_id],
            now,
            final_month_savings=month_before_today,
            final_total_savings=total_before_today,
        )
        final_days = [d for (c, d) in book.finals if c == client_id]
        return ClientSavings(
            client_id=client_id,
            first=first,
            last=last,
            days=window,
            window=sum_figures(f.figures for f in window),
            final_through=max(final_days) if final_days else await book.latest_final(client_id),
            projection=projection,
        )

    async def totals(
        self, client_ids: Sequence[ClientId], now: datetime, *, days: int = 30
    ) -> dict[ClientId, SavingsTotals]:
        """M1/M5/M7/M13: ``total_savings`` per client, and the savings of the ``days``-day ledger window."""
        if not client_ids:
            return {}
        today = now.date()
        first, _ = ledger_window(today, days)
        span_first = min(first, today - timedelta(days=BACKFILL_DAYS))
        book = await _Book.load(self._views, client_ids, span_first, now)
        result: dict[ClientId, SavingsTotals] = {}
        for client_id in client_ids:
            total, window = book.before[client_id], MONEY_ZERO
            for day in days_between(span_first, today):
                savings = (await book.day(client_id, day, with_counts=False)).figures.savings
                total += savings
                window += savings if day >= first else MONEY_ZERO
            result[client_id] = SavingsTotals(total_savings=total, window_savings=window)
        return result


def _open_runs(
    finals: Mapping[tuple[ClientId, date], object], client_id: ClientId, first: date, last: date
) -> tuple[tuple[datetime, datetime], ...]:
    """``[start, end)`` of each run of consecutive days of ``[first, last]`` without a final snapshot."""
    runs: list[tuple[datetime, datetime]] = []
    for day in days_between(first, last):
        if (client_id, day) in finals:
            continue
        if runs and runs[-1][1] == day_start(day):
            runs[-1] = (runs[-1][0], day_end(day))
        else:
            runs.append((day_start(day), day_end(day)))
    return tuple(runs)


class _Book:
    """The snapshots and ledger entries of a set of clients over ``[span_first, today]``, read once."""

    def __init__(self, views: SavingsViews, span_first: date, now: datetime) -> None:
        self._views = views
        self._span_first = span_first
        self._now = now
        self.finals: dict[tuple[ClientId, date], SavingsDailySnapshot] = {}
        self.before: Mapping[ClientId, Decimal] = {}
        self.entries: dict[ClientId, list[LedgerEntry]] = defaultdict(list)
        self._closed_by_day: dict[tuple[ClientId, date], list[LedgerEntry]] = defaultdict(list)
        self._open: dict[ClientId, list[LedgerEntry]] = defaultdict(list)

    @classmethod
    async def load(cls, views: SavingsViews, client_ids: Sequence[ClientId], span_first: date, now: datetime) -> _Book:
        book = cls(views, span_first, now)
        today = now.date()
        finals = await views.final_days(client_ids, span_first, today)
        book.finals = {(s.client_id, s.day): s for s in finals}
        book.before = defaultdict(lambda: MONEY_ZERO, await views.final_savings_totals(client_ids, span_first))
        # Closed entries only of the days without a final snapshot, read per run of consecutive such days; clients
        # with the same runs share one read (a young client does not widen an old client's read).
        groups: dict[tuple[tuple[datetime, datetime], ...], list[ClientId]] = defaultdict(list)
        for client_id in client_ids:
            groups[_open_runs(book.finals, client_id, span_first, today)].append(client_id)
        for runs, members in groups.items():
            for entry in await views.ledger_entries(members, runs):
                book.entries[entry.client_id].append(entry)
                if entry.ended_at is None:
                    book._open[entry.client_id].append(entry)
                else:
                    book._closed_by_day[(entry.client_id, entry.started_at.date())].append(entry)
        return book

    async def day(self, client_id: ClientId, day: date, *, with_counts: bool) -> DayFigures:
        final = self.finals.get((client_id, day))
        if final is not None:
            return DayFigures(day=day, final=True, figures=final.figures, instance_count=final.instance_count)
        start, end = day_start(day), day_end(day)
        entries = [*self._closed_by_day.get((client_id, day), ()), *self._open.get(client_id, ())]
        switches = failovers = 0
        if with_counts:
            switches = (await self._views.count_switches([client_id], start, end)).get(client_id, 0)
            failovers = (await self._views.count_failovers([client_id], start, end)).get(client_id, 0)
        summary = summarise_day(entries, day, now=min(self._now, end), switch_count=switches, failover_count=failovers)
        return DayFigures(
            day=day, final=False, figures=SnapshotFigures.of(summary), instance_count=summary.instance_count
        )

    async def latest_final(self, client_id: ClientId) -> date | None:
        """The last final day before the span (rare: only when the span itself holds none)."""
        found = await self._views.final_days(
            [client_id], self._span_first - timedelta(days=366), self._span_first - _DAY
        )
        return max((s.day for s in found), default=None)
