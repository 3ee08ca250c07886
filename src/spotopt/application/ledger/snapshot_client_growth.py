"""The client-growth snapshot job (domain §5.4 ClientGrowthDaily, §7.2 "Snapshots": 00:05 for D−1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.ledger.snapshots import BACKFILL_DAYS, ClientGrowthSnapshot, day_end, day_start, days_between


def growth_key(day: date) -> str:
    """§7.2 idempotency key ``growth:<date>``."""
    return f"growth:{day.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotClientGrowthResult:
    written: tuple[date, ...] = ()
    backfilled: tuple[date, ...] = ()


class SnapshotClientGrowth:
    """- Writes ClientGrowthDaily for D−1 (the day before the clock's today): ``total_clients`` existing at the end
      of the day, ``new_clients`` created in it, ``active_clients`` active now.
    - JB-2: every other missing date of the last 35 days is back-filled from real creation (and deletion) dates
      only, with ``active_clients`` null (it cannot be known afterwards); nothing before the first client.
    - An existing snapshot is never changed (key ``growth:<date>``); one date per transaction.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self) -> SnapshotClientGrowthResult:
        now = self._clock.now()
        target = now.date() - timedelta(days=1)
        first_created = await self._uow.snapshots.first_client_created_at()
        if first_created is None:
            return SnapshotClientGrowthResult()
        first = max(target - timedelta(days=BACKFILL_DAYS - 1), first_created.date())
        existing = {s.day for s in await self._uow.snapshots.list_growth(first, target)}
        written: list[date] = []
        for day in days_between(first, target):
            if day in existing:
                continue
            start, end = day_start(day), day_end(day)
            snapshot = ClientGrowthSnapshot(
                day=day,
                total_clients=await self._uow.snapshots.count_clients(existing_at=end),
                new_clients=await self._uow.snapshots.count_new_clients(start, end),
                active_clients=await self._uow.snapshots.count_active_clients() if day == target else None,
                computed_at=now,
            )
            await self._uow.snapshots.add_growth(snapshot)
            await self._uow.commit()
            written.append(day)
        return SnapshotClientGrowthResult(
            written=tuple(written), backfilled=tuple(day for day in written if day != target)
        )
