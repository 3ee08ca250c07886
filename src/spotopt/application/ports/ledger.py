"""Ports of the ledger feature: entries and snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from spotopt.application.ports.agents import AgentRef
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import (
    ClientGrowthSnapshot,
    ClientLifetime,
    SavingsDailySnapshot,
    SavingsMonthlySnapshot,
)
from spotopt.domain.shared.ids import AgentId, ClientId


class LedgerRepository(Protocol):
    """Ledger entries (§5). ``save`` persists entries returned by the domain's ``LedgerChange`` (new or changed)."""

    async def open_entry(self, client_id: ClientId, instance_id: str) -> LedgerEntry | None: ...

    async def save(self, entries: Sequence[LedgerEntry]) -> None: ...

    async def open_entries_for_agent(self, agent_id: AgentId) -> Sequence[LedgerEntry]:
        """The agent's open entries (one per non-terminated instance, IN-8), by instance id."""
        ...

    async def agents_with_open_entries(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """Ledger accrual inputs: agents with an open entry, by agent id after ``after`` (keyset), at most ``limit``."""
        ...

    async def entries_for_day(self, client_id: ClientId, day: date) -> Sequence[LedgerEntry]:
        """The client's entries of UTC day ``day``: closed ones that started in it and open ones that started
        before its end (the caller values those up to now, LG-4), by start then id.
        """
        ...


class SnapshotRepository(Protocol):
    """Savings and client-growth snapshots (§5.4), plus the counts they take from outside the ledger.

    Snapshots returned are tracked: revise them in place; ``add_*`` stores new ones (one per key).
    """

    async def list_daily(self, client_id: ClientId, first: date, last: date) -> Sequence[SavingsDailySnapshot]:
        """The client's daily snapshots with ``first <= day <= last``, by day."""
        ...

    async def add_daily(self, snapshot: SavingsDailySnapshot) -> None: ...

    async def get_monthly(self, client_id: ClientId, year: int, month: int) -> SavingsMonthlySnapshot | None: ...

    async def add_monthly(self, snapshot: SavingsMonthlySnapshot) -> None: ...

    async def list_growth(self, first: date, last: date) -> Sequence[ClientGrowthSnapshot]:
        """Client-growth snapshots with ``first <= day <= last``, by day."""
        ...

    async def add_growth(self, snapshot: ClientGrowthSnapshot) -> None: ...

    async def client_lifetimes(self, limit: int, *, after: ClientId | None = None) -> Sequence[ClientLifetime]:
        """Every client (inactive ones too) with its creation and deletion time, by client id after ``after``."""
        ...

    async def count_switches(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        """Switch records of the client received in ``[start, end)`` (§5.3 ``switch_count``)."""
        ...

    async def count_failovers(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        """Episodes of the client closed ``failed_over`` in ``[start, end)`` (§5.3 ``failover_count``)."""
        ...

    async def count_clients(self, *, existing_at: datetime) -> int:
        """Clients created before ``existing_at`` and not deleted by then."""
        ...

    async def count_new_clients(self, start: datetime, end: datetime) -> int:
        """Clients created in ``[start, end)``."""
        ...

    async def count_active_clients(self) -> int: ...

    async def first_client_created_at(self) -> datetime | None: ...
