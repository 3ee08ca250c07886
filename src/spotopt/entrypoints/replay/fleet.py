"""What the server learns from the replayed agent's own instances: the §6.2 fleet statistics of each pool, and the
names the domain sees for the replay's zones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.domain.decisions.estimation import PoolStats
from spotopt.domain.shared.pools import region_of_az
from spotopt.entrypoints.replay.market import Market

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)
MONTH = timedelta(days=30)
ONE_REGION = "replay-1"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class PoolNames:
    """Zone ↔ domain pool id. The domain places replicas and moves within one region (RP-1, DP-7 #1); with
    ``one_region`` the replay shows every zone to it as a zone of the one region ``replay-1`` (a workload that can
    run in any of the trace's regions), otherwise the zones keep their names and must share a region.
    """

    instance_type: str
    zones: tuple[str, ...]
    one_region: bool

    def __post_init__(self) -> None:
        if not self.zones:
            raise ValueError("no zones")
        if self.one_region and len(self.zones) > len(_LETTERS):
            raise ValueError("too many zones for one region")
        if not self.one_region and len({region_of_az(z) for z in self.zones}) != 1:
            raise ValueError("zones of several regions need one_region")

    @classmethod
    def of(cls, instance_type: str, zones: Sequence[str], *, one_region: bool) -> PoolNames:
        return cls(instance_type, tuple(sorted(zones)), one_region)

    @property
    def region(self) -> str:
        return ONE_REGION if self.one_region else region_of_az(self.zones[0])

    def az(self, zone: str) -> str:
        return f"{ONE_REGION}{_LETTERS[self.zones.index(zone)]}" if self.one_region else zone

    def pool_id(self, zone: str) -> str:
        return f"{self.instance_type}.{self.az(zone)}"

    def zone_of(self, pool_id: str) -> str:
        return next(z for z in self.zones if self.pool_id(z) == pool_id)


class FleetSignals:
    """Termination notices and rebalance recommendations per pool: distinct instances within 24 h / 7 d / 30 d."""

    def __init__(self) -> None:
        self._notices: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        self._rebalances: dict[str, list[tuple[datetime, str]]] = defaultdict(list)

    def notice(self, pool_id: str, instance_id: str, at: datetime) -> None:
        self._notices[pool_id].append((at, instance_id))

    def rebalance(self, pool_id: str, instance_id: str, at: datetime) -> None:
        self._rebalances[pool_id].append((at, instance_id))

    def stats(self, pool_id: str, now: datetime) -> PoolStats:
        notices = _recent(self._notices, pool_id, now)
        rebalances = _recent(self._rebalances, pool_id, now)
        return PoolStats(
            t24=_distinct(notices, now, DAY),
            t7=_distinct(notices, now, WEEK),
            t30=_distinct(notices, now, MONTH),
            r24=_distinct(rebalances, now, DAY),
            r7=_distinct(rebalances, now, WEEK),
            last_notice_at=max((at for at, _ in notices), default=None),
        )


class FleetExposure:
    """Fleet view: one fleet instance per zone runs whenever the zone has capacity, so a pool's 7-day exposure
    (§6.2) is the time its zone was obtainable in the last 7 days of the window (as the traces adapter counts it).
    """

    def __init__(self, market: Market) -> None:
        self._gap = market.gap_seconds
        self._prefix: dict[str, list[int]] = {}
        for zone in market.zones:
            sums = [0]
            for ok in zone.obtainable:
                sums.append(sums[-1] + int(ok))
            self._prefix[zone.name] = sums

    def hours_7d(self, zone: str, t: int) -> Decimal:
        sums = self._prefix[zone]
        end = min(t // self._gap, len(sums) - 1)
        start = max(0, (t - int(WEEK.total_seconds())) // self._gap)
        return Decimal(round((sums[end] - sums[start]) * self._gap / 3600, 3))


def _recent(signals: dict[str, list[tuple[datetime, str]]], pool_id: str, now: datetime) -> list[tuple[datetime, str]]:
    kept = [(at, i) for at, i in signals.get(pool_id, ()) if now - at < MONTH]
    if pool_id in signals:
        signals[pool_id] = kept
    return kept


def _distinct(signals: list[tuple[datetime, str]], now: datetime, window: timedelta) -> int:
    return len({i for at, i in signals if now - at < window and at <= now})
