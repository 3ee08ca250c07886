"""M5: clients with their counts and ``total_savings`` (from the ledger through the one savings reader), paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from spotopt.application.ledger.savings_views import SavingsReader
from spotopt.application.ports.savings_views import ClientCounts, FleetViews
from spotopt.application.ports.system import Clock
from spotopt.domain.clients.client import Client, ClientStatus
from spotopt.domain.ledger.entry import MONEY_ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientListing:
    client: Client
    counts: ClientCounts
    total_savings: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientsQuery:
    status: ClientStatus | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientsResult:
    clients: Sequence[ClientListing]
    total: int


class ListClients:
    """- Every client (or those of one ``status``), newest ``created_at`` first, paged; ``total`` counts all matches.
    - Counts: non-deleted agents, live ones; ``total_savings`` per domain §5.3 (LG-5, CL-5: never a stored counter).
    """

    def __init__(self, fleet: FleetViews, reader: SavingsReader, clock: Clock) -> None:
        self._fleet = fleet
        self._reader = reader
        self._clock = clock

    async def execute(self, query: ListClientsQuery) -> ListClientsResult:
        now = self._clock.now()
        page, total = await self._fleet.page_clients(query.status, limit=query.limit, offset=query.offset)
        ids = [c.client_id for c in page]
        counts = await self._fleet.client_counts(ids)
        totals = await self._reader.totals(ids, now)
        listings = [
            ClientListing(
                client=c,
                counts=counts.get(c.client_id, ClientCounts()),
                total_savings=totals[c.client_id].total_savings if c.client_id in totals else MONEY_ZERO,
            )
            for c in page
        ]
        return ListClientsResult(clients=listings, total=total)
