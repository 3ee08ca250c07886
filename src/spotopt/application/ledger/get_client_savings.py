"""C18 (and the C21 export): a client's savings over its ledger window, from the ledger and its snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.application.ledger.savings_views import ClientSavings, SavingsReader
from spotopt.application.ports.savings_views import SavingsViews
from spotopt.application.ports.system import Clock
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientSavingsQuery:
    client_id: ClientId
    days: int = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientSavingsResult:
    savings: ClientSavings
    switch_count: int
    failover_count: int
    now: datetime


class GetClientSavings:
    """- Figures per day: the final snapshot, else the ledger now (LG-5); window sums, rate and projections at now.
    - ``switch_count`` / ``failover_count`` over the rolling window ``[now - days x 24 h, now]`` (§1.8).
    - A pure read: empty data gives zeros and nulls, never an error.
    """

    def __init__(self, reader: SavingsReader, views: SavingsViews, clock: Clock) -> None:
        self._reader = reader
        self._views = views
        self._clock = clock

    async def execute(self, query: GetClientSavingsQuery) -> GetClientSavingsResult:
        now = self._clock.now()
        savings = await self._reader.client(query.client_id, query.days, now)
        since, until = now - timedelta(days=query.days), now + timedelta(microseconds=1)
        ids = [query.client_id]
        switches = await self._views.count_switches(ids, since, until)
        failovers = await self._views.count_failovers(ids, since, until)
        return GetClientSavingsResult(
            savings=savings,
            switch_count=switches.get(query.client_id, 0),
            failover_count=failovers.get(query.client_id, 0),
            now=now,
        )
