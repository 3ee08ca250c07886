"""M7: global counters, with ``total_savings`` = Σ of the active clients' §5.3 totals (the one savings reader)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from spotopt.application.ledger.savings_views import SavingsReader
from spotopt.application.ports.savings_views import FleetCounts, FleetViews, SavingsViews
from spotopt.application.ports.system import Clock
from spotopt.domain.ledger.entry import MONEY_ZERO
from spotopt.domain.ledger.snapshots import day_start

POOL_AVAILABILITY = timedelta(hours=24)  # PR-33


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalStats:
    fleet: FleetCounts
    total_savings: Decimal
    switches_today: int
    failovers_today: int


class GetGlobalStats:
    """- Active clients; non-deleted agents, live ones, their instances by role; open episodes; available pools.
    - ``total_savings``: Σ ``total_savings`` of active clients; switches and failovers since 00:00 UTC (all clients).
    """

    def __init__(self, fleet: FleetViews, reader: SavingsReader, views: SavingsViews, clock: Clock) -> None:
        self._fleet = fleet
        self._reader = reader
        self._views = views
        self._clock = clock

    async def execute(self) -> GlobalStats:
        now = self._clock.now()
        fleet = await self._fleet.fleet_counts(pools_seen_since=now - POOL_AVAILABILITY)
        clients = await self._fleet.list_clients(include_inactive=True)
        active = [c.client_id for c in clients if c.is_active]
        totals = await self._reader.totals(active, now)
        every = [c.client_id for c in clients]
        start, end = day_start(now.date()), now + timedelta(microseconds=1)
        switches = await self._views.count_switches(every, start, end)
        failovers = await self._views.count_failovers(every, start, end)
        return GlobalStats(
            fleet=fleet,
            total_savings=sum((t.total_savings for t in totals.values()), MONEY_ZERO),
            switches_today=sum(switches.values()),
            failovers_today=sum(failovers.values()),
        )
