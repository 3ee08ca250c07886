"""C20: chart series of a client — daily savings of the ledger window, primaries by mode, switches by origin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from spotopt.application.ledger.savings_views import DayFigures, SavingsReader
from spotopt.application.ports.savings_views import FleetViews, SwitchHistoryViews
from spotopt.application.ports.system import Clock
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSavingsChartsQuery:
    client_id: ClientId
    days: int = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSavingsChartsResult:
    days: int
    daily: tuple[DayFigures, ...]
    mode_distribution: tuple[tuple[str, int], ...]
    switch_origins: tuple[tuple[str, int], ...]


class GetSavingsCharts:
    """- ``daily``: one entry per day of the ledger window, oldest first, from the same reader as C18 (a day without
      data is zeros with ``final`` false).
    - ``mode_distribution``: primaries of non-deleted agents by mode; ``switch_origins``: Switch records of the
      rolling window by origin, count descending (ties by origin).
    """

    def __init__(self, reader: SavingsReader, fleet: FleetViews, switches: SwitchHistoryViews, clock: Clock) -> None:
        self._reader = reader
        self._fleet = fleet
        self._switches = switches
        self._clock = clock

    async def execute(self, query: GetSavingsChartsQuery) -> GetSavingsChartsResult:
        now = self._clock.now()
        savings = await self._reader.client(query.client_id, query.days, now)
        modes = await self._fleet.primary_modes(query.client_id)
        origins = await self._switches.origin_counts(query.client_id, now - timedelta(days=query.days), now)
        return GetSavingsChartsResult(
            days=query.days,
            daily=savings.days,
            mode_distribution=_by_count(modes),
            switch_origins=_by_count(origins),
        )


def _by_count(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
