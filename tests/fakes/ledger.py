"""Fakes of the ledger ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TypeVar

from spotopt.application.errors import ConflictError
from spotopt.application.ports.agents import AgentRef
from spotopt.domain.clients.client import ClientStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import (
    ClientGrowthSnapshot,
    ClientLifetime,
    SavingsDailySnapshot,
    SavingsMonthlySnapshot,
    day_end,
    day_start,
)
from spotopt.domain.shared.ids import AgentId, ClientId
from tests.fakes.store import InMemoryRepository, agent_refs_after


class InMemoryLedgerRepository(InMemoryRepository):
    async def open_entry(self, client_id: ClientId, instance_id: str) -> LedgerEntry | None:
        return next(
            (
                e
                for e in self.store.ledger.values()
                if e.client_id == client_id and e.instance_id == instance_id and e.ended_at is None
            ),
            None,
        )

    async def save(self, entries: Sequence[LedgerEntry]) -> None:
        for entry in entries:
            self.store.ledger[entry.entry_id] = entry

    async def open_entries_for_agent(self, agent_id: AgentId) -> Sequence[LedgerEntry]:
        found = (e for e in self.store.ledger.values() if e.agent_id == agent_id and e.is_open)
        return sorted(found, key=lambda e: e.instance_id)

    async def agents_with_open_entries(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        return agent_refs_after(
            ((e.client_id, e.agent_id) for e in self.store.ledger.values() if e.is_open), limit, after
        )

    async def entries_for_day(self, client_id: ClientId, day: date) -> Sequence[LedgerEntry]:
        start, end = day_start(day), day_end(day)
        found = [
            e
            for e in self.store.ledger.values()
            if e.client_id == client_id and e.started_at < end and (e.is_open or e.started_at >= start)
        ]
        return sorted(found, key=lambda e: (e.started_at, e.entry_id))

    def entries_of(self, instance_id: str) -> list[LedgerEntry]:
        """For assertions: read the tables without opening a transaction."""
        return sorted(
            (e for e in self._store.ledger.values() if e.instance_id == instance_id), key=lambda e: e.started_at
        )


class InMemorySnapshotRepository(InMemoryRepository):
    """Snapshots keyed like the tables (a second ``add_*`` of one key is a conflict); counts read the store."""

    async def list_daily(self, client_id: ClientId, first: date, last: date) -> Sequence[SavingsDailySnapshot]:
        found = (s for (c, d), s in self.store.daily_snapshots.items() if c == client_id and first <= d <= last)
        return sorted(found, key=lambda s: s.day)

    async def add_daily(self, snapshot: SavingsDailySnapshot) -> None:
        _insert_once(self.store.daily_snapshots, (snapshot.client_id, snapshot.day), snapshot)

    async def get_monthly(self, client_id: ClientId, year: int, month: int) -> SavingsMonthlySnapshot | None:
        return self.store.monthly_snapshots.get((client_id, year, month))

    async def add_monthly(self, snapshot: SavingsMonthlySnapshot) -> None:
        _insert_once(self.store.monthly_snapshots, snapshot.key, snapshot)

    async def list_growth(self, first: date, last: date) -> Sequence[ClientGrowthSnapshot]:
        return sorted((s for d, s in self.store.growth_snapshots.items() if first <= d <= last), key=lambda s: s.day)

    async def add_growth(self, snapshot: ClientGrowthSnapshot) -> None:
        _insert_once(self.store.growth_snapshots, snapshot.day, snapshot)

    async def client_lifetimes(self, limit: int, *, after: ClientId | None = None) -> Sequence[ClientLifetime]:
        clients = sorted(
            (c for c in self.store.clients.values() if after is None or c.client_id > after), key=lambda c: c.client_id
        )
        return [ClientLifetime(c.client_id, c.created_at, c.deleted_at) for c in clients[:limit]]

    async def count_switches(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        return sum(1 for s in self.store.switches.values() if s.client_id == client_id and start <= s.received_at < end)

    async def count_failovers(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        return sum(
            1
            for e in self.store.episodes.values()
            if e.client_id == client_id
            and e.state is EpisodeState.FAILED_OVER
            and e.closed_at is not None
            and start <= e.closed_at < end
        )

    async def count_clients(self, *, existing_at: datetime) -> int:
        return sum(
            1
            for c in self.store.clients.values()
            if c.created_at < existing_at and (c.deleted_at is None or c.deleted_at >= existing_at)
        )

    async def count_new_clients(self, start: datetime, end: datetime) -> int:
        return sum(1 for c in self.store.clients.values() if start <= c.created_at < end)

    async def count_active_clients(self) -> int:
        return sum(1 for c in self.store.clients.values() if c.status is ClientStatus.ACTIVE)

    async def first_client_created_at(self) -> datetime | None:
        return min((c.created_at for c in self.store.clients.values()), default=None)


K = TypeVar("K")
V = TypeVar("V")


def _insert_once(rows: dict[K, V], key: K, row: V) -> None:
    if key in rows:
        raise ConflictError("The change conflicts with existing data", code="conflict")
    rows[key] = row
