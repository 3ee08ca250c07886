"""M13: one statistics row per client (CSV), with the same savings figures as C18 and M5."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.application.ledger.savings_views import SavingsReader, SavingsTotals
from spotopt.application.ports.savings_views import ClientCounts, FleetViews, SavingsViews
from spotopt.application.ports.system import Clock
from spotopt.domain.clients.client import Client


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientStatsRow:
    client: Client
    counts: ClientCounts
    switches: int
    failovers: int
    savings: Decimal
    total_savings: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportClientStatsQuery:
    days: int = 30
    include_inactive: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportClientStatsResult:
    rows: Sequence[ClientStatsRow]
    now: datetime


class ExportClientStats:
    """- Active clients (all with ``include_inactive``), oldest first.
    - ``switches`` / ``failovers`` over the rolling window; ``savings`` over the ledger window of ``days`` days;
      ``total_savings`` per §5.3 — both from the one savings reader (LG-5).
    """

    def __init__(self, fleet: FleetViews, reader: SavingsReader, views: SavingsViews, clock: Clock) -> None:
        self._fleet = fleet
        self._reader = reader
        self._views = views
        self._clock = clock

    async def execute(self, query: ExportClientStatsQuery) -> ExportClientStatsResult:
        now = self._clock.now()
        clients = await self._fleet.list_clients(include_inactive=query.include_inactive)
        ids = [c.client_id for c in clients]
        counts = await self._fleet.client_counts(ids)
        totals = await self._reader.totals(ids, now, days=query.days)
        since, until = now - timedelta(days=query.days), now + timedelta(microseconds=1)
        switches = await self._views.count_switches(ids, since, until)
        failovers = await self._views.count_failovers(ids, since, until)
        rows = []
        for c in clients:
            figures = totals.get(c.client_id, SavingsTotals())
            rows.append(
                ClientStatsRow(
                    client=c,
                    counts=counts.get(c.client_id, ClientCounts()),
                    switches=switches.get(c.client_id, 0),
                    failovers=failovers.get(c.client_id, 0),
                    savings=figures.window_savings,
                    total_savings=figures.total_savings,
                )
            )
        return ExportClientStatsResult(rows=rows, now=now)
