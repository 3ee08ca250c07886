"""M6: the fleet's ClientGrowthDaily snapshots (domain §5.4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.ledger.snapshots import ClientGrowthSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientGrowthQuery:
    days: int = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientGrowthResult:
    days: int
    growth: Sequence[ClientGrowthSnapshot]


class GetClientGrowth:
    """- The last ``days`` UTC dates up to yesterday, oldest first; dates without a snapshot are omitted (never
    fabricated); ``active_clients`` stays null for back-filled dates.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, query: GetClientGrowthQuery) -> GetClientGrowthResult:
        yesterday = self._clock.now().date() - timedelta(days=1)
        first = yesterday - timedelta(days=query.days - 1)
        growth = await self._uow.snapshots.list_growth(first, yesterday)
        return GetClientGrowthResult(days=query.days, growth=sorted(growth, key=lambda s: s.day))
