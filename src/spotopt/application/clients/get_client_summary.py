"""C1 and C2: the token's client, and its summary (fleet counts and ledger savings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.client_views import ClientViews, FleetCounts
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.clients.client import Client
from spotopt.domain.ledger.savings import summarise_day
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientSummaryQuery:
    client_id: ClientId
    with_figures: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientFigures:
    counts: FleetCounts
    total_savings: Decimal
    savings_today: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientSummaryResult:
    client: Client
    figures: ClientFigures | None
    now: datetime


class GetClientSummary:
    """- The token's own client (CL-4); C1 asks for it alone (``with_figures=False``), C2 for the figures too.
    - Counts over non-deleted agents; instances by role among them; the newest primary heartbeat.
    - §5.3 (CL-5, LG-5): ``savings_today`` = today's closed entries plus the open ones valued up to now;
      ``total_savings`` = Σ final daily snapshots before today + ``savings_today``. A pure read.
    """

    def __init__(self, uow: UnitOfWork, views: ClientViews, clock: Clock) -> None:
        self._uow = uow
        self._views = views
        self._clock = clock

    async def execute(self, query: GetClientSummaryQuery) -> GetClientSummaryResult:
        now = self._clock.now()
        client = await self._uow.clients.get(query.client_id)
        if client is None:
            raise NotFoundError("Client not found")
        if not query.with_figures:
            return GetClientSummaryResult(client=client, figures=None, now=now)
        counts = await self._views.fleet_counts(query.client_id)
        today = now.date()
        entries = await self._uow.ledger.entries_for_day(query.client_id, today)
        savings_today = summarise_day(entries, today, now=now).savings
        final = await self._views.final_savings_before(query.client_id, today)
        figures = ClientFigures(counts=counts, total_savings=final + savings_today, savings_today=savings_today)
        return GetClientSummaryResult(client=client, figures=figures, now=now)
