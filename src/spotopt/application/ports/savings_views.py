"""Read ports of the savings, switch-history and fleet-count views (C18 – C22, M1, M5, M7, M13).

Every method is a pure read: it never writes, flushes or commits, and needs no lock. Sequences come back in the
order each method states; mappings carry only the clients that have something (absent = zero).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from spotopt.domain.clients.client import Client, ClientStatus
from spotopt.domain.commands.switch import Switch
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import SavingsDailySnapshot
from spotopt.domain.shared.ids import ClientId


class SavingsViews(Protocol):
    """The two sources of every savings figure (LG-5): final daily snapshots and the ledger itself."""

    async def final_days(
        self, client_ids: Sequence[ClientId], first: date, last: date
    ) -> Sequence[SavingsDailySnapshot]:
        """Final SavingsDaily snapshots of the clients with ``first <= day <= last``, by client then day."""
        ...

    async def final_savings_totals(self, client_ids: Sequence[ClientId], before: date) -> Mapping[ClientId, Decimal]:
        """Σ ``savings`` of each client's final daily snapshots dated before ``before``."""
        ...

    async def ledger_entries(
        self, client_ids: Sequence[ClientId], spans: Sequence[tuple[datetime, datetime]]
    ) -> Sequence[LedgerEntry]:
        """The clients' closed entries that started in one of the ``[start, end)`` spans, and all their open
        entries, by start then id.
        """
        ...

    async def count_switches(
        self, client_ids: Sequence[ClientId], start: datetime, end: datetime
    ) -> Mapping[ClientId, int]:
        """Switch records received in ``[start, end)`` per client (§5.3 ``switch_count``)."""
        ...

    async def count_failovers(
        self, client_ids: Sequence[ClientId], start: datetime, end: datetime
    ) -> Mapping[ClientId, int]:
        """Episodes closed ``failed_over`` in ``[start, end)`` per client (§5.3 ``failover_count``)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchFilter:
    """C19/C22 filters: received in ``[since, until]``; ``instance_id`` matches the old or the new side."""

    client_id: ClientId
    since: datetime
    until: datetime
    agent_id: str | None = None
    instance_id: str | None = None
    origins: frozenset[str] = frozenset()


class SwitchHistoryViews(Protocol):
    async def page_switches(self, query: SwitchFilter, *, limit: int, offset: int) -> tuple[Sequence[Switch], int]:
        """Matching Switch records, newest ``received_at`` first (ties by id ascending), and the count of all."""
        ...

    async def origin_counts(self, client_id: ClientId, start: datetime, end: datetime) -> Mapping[str, int]:
        """Switch records of the client received in ``[start, end]`` per origin."""
        ...


@dataclass(frozen=True, slots=True)
class ClientCounts:
    """Agent and instance counts of one client: non-deleted agents, live ones, instances by role among them."""

    agents: int = 0
    agents_online: int = 0
    primary: int = 0
    standby: int = 0
    kept_old: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetCounts:
    """M7 counters that are not savings: active clients, fleet-wide agent and instance counts (non-deleted agents),
    open episodes (``at_risk`` / ``terminating``), available pools (PR-33).
    """

    active_clients: int
    totals: ClientCounts
    open_episodes: int
    pools_available: int


class FleetViews(Protocol):
    async def page_clients(
        self, status: ClientStatus | None, *, limit: int, offset: int
    ) -> tuple[Sequence[Client], int]:
        """Clients (all, or of one status), newest ``created_at`` first (ties by id), and the count of all."""
        ...

    async def list_clients(self, *, include_inactive: bool) -> Sequence[Client]:
        """Clients (active ones only unless ``include_inactive``), oldest ``created_at`` first (ties by id)."""
        ...

    async def client_counts(self, client_ids: Sequence[ClientId]) -> Mapping[ClientId, ClientCounts]: ...

    async def primary_modes(self, client_id: ClientId) -> Mapping[str, int]:
        """Primary instances of the client's non-deleted agents per mode (C20 ``mode_distribution``)."""
        ...

    async def fleet_counts(self, *, pools_seen_since: datetime) -> FleetCounts: ...
