"""Client route C14 (``/api/client/pricing-history``): the client's pricing reports, paged (api.md §5)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from spotopt.application.ports.client_views import PageRequest
from spotopt.application.pricing.list_pricing_history import ListPricingHistory, ListPricingHistoryQuery
from spotopt.domain.pricing.market import PricingReport
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.client_queries import AgentIdFilter
from spotopt.entrypoints.http.queries import Days, Limit, Offset
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.wire import dt, num

Req = Request[Any, Any, Any]


def report_body(report: PricingReport) -> dict[str, Any]:
    """A.8 PricingReport without ``spot_pools`` (C14)."""
    return {
        "id": report.report_id,
        "agent_id": report.agent_id,
        "instance_id": report.instance_id,
        "instance_type": report.instance_type,
        "region": report.region,
        "az": report.az,
        "mode": report.mode,
        "pool_id": report.pool_id,
        "on_demand_price": num(report.on_demand_price),
        "current_spot_price": num(report.current_spot_price),
        "cheapest_pool_id": report.cheapest_pool_id,
        "cheapest_pool_price": num(report.cheapest_pool_price),
        "pool_count": report.pool_count,
        "pools_rejected": report.pools_rejected,
        "collected_at": dt(report.collected_at),
        "received_at": dt(report.received_at),
    }


class ClientPricingController(Controller):
    path = "/api/client"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @get("/pricing-history")
    async def pricing_history(
        self, request: Req, agent_id: AgentIdFilter = None, days: Days = 7, limit: Limit = 50, offset: Offset = 0
    ) -> dict[str, Any]:
        """C14: reports of the rolling window, newest ``received_at`` first."""
        query = ListPricingHistoryQuery(
            client_id=client_id_of(request), days=days, agent_id=agent_id, page=PageRequest(limit=limit, offset=offset)
        )
        result = await run_use_case(request, ListPricingHistory, lambda uc: uc.execute(query))
        return {"history": [report_body(r) for r in result.reports], "total": result.total, "days": result.days}
