"""C14: pricing reports (A.8, without ``spot_pools``) of the client's agents in a rolling window, paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.client_views import FIRST_PAGE, ClientViews, PageRequest
from spotopt.application.ports.system import Clock
from spotopt.domain.pricing.market import PricingReport
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPricingHistoryQuery:
    client_id: ClientId
    days: int = 7
    agent_id: str | None = None
    page: PageRequest = FIRST_PAGE


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPricingHistoryResult:
    reports: Sequence[PricingReport]
    total: int
    days: int


class ListPricingHistory:
    """- Rolling window ``[now - days × 24 h, now]`` on ``received_at`` (§1.8); only the client's reports (CL-4); an
      ``agent_id`` naming no agent of the client → 404.
    - Newest ``received_at`` first, ties by id. A pure read.
    """

    def __init__(self, views: ClientViews, clock: Clock) -> None:
        self._views = views
        self._clock = clock

    async def execute(self, query: ListPricingHistoryQuery) -> ListPricingHistoryResult:
        if query.agent_id is not None and not await self._views.owns_agent(query.client_id, query.agent_id):
            raise NotFoundError("Agent not found")
        since = self._clock.now() - timedelta(days=query.days)
        reports, total = await self._views.pricing_reports(query.client_id, since, query.agent_id, query.page)
        return ListPricingHistoryResult(reports=reports, total=total, days=query.days)
