"""Admin reads M5, M7, M13: clients with counts, global counters, per-client statistics CSV (one savings reader)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from spotopt.application.clients.export_client_stats import ExportClientStats, ExportClientStatsQuery
from spotopt.application.clients.list_clients import ListClients, ListClientsQuery
from spotopt.application.system.get_global_stats import GetGlobalStats
from spotopt.domain.clients.client import ClientStatus
from spotopt.entrypoints.http.auth import admin_guard
from spotopt.entrypoints.http.clients.schemas import ClientResponse, client_response
from spotopt.entrypoints.http.csv_export import Cell, csv_response
from spotopt.entrypoints.http.queries import Days, Limit, Offset
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.wire import num

Req = Request[Any, Any, Any]
StatusFilter = Annotated[Literal["active", "inactive"] | None, Parameter(description="Only clients of this status.")]
STATS_CSV_HEADER = [
    "client_id",
    "client_name",
    "email",
    "status",
    "created_at",
    "agents_total",
    "agents_online",
    "primary_instances",
    "standby_instances",
    "kept_old_instances",
    "switches",
    "failovers",
    "savings",
    "total_savings",
]


class ClientListResponse(msgspec.Struct, kw_only=True):
    clients: list[ClientResponse]
    total: int


class GlobalStatsResponse(msgspec.Struct, kw_only=True):
    total_clients: int
    total_agents: int
    online_agents: int
    primary_instances: int
    standby_instances: int
    kept_old_instances: int
    open_episodes: int
    pools_available: int
    total_savings: float
    switches_today: int
    failovers_today: int


class AdminStatsController(Controller):
    path = "/api/admin"
    guards = [admin_guard]
    opt = {"group": "admin"}

    @get("/clients")
    async def list_clients(
        self, request: Req, status: StatusFilter = None, limit: Limit = 50, offset: Offset = 0
    ) -> ClientListResponse:
        """M5: clients (A.10) with counts and ``total_savings``, newest first, paged."""
        query = ListClientsQuery(status=ClientStatus(status) if status else None, limit=limit, offset=offset)
        result = await run_use_case(request, ListClients, lambda uc: uc.execute(query))
        clients = [
            client_response(
                c.client,
                agent_count=c.counts.agents,
                agents_online=c.counts.agents_online,
                total_savings=c.total_savings,
            )
            for c in result.clients
        ]
        return ClientListResponse(clients=clients, total=result.total)

    @get("/stats")
    async def stats(self, request: Req) -> GlobalStatsResponse:
        """M7: global counters; ``total_savings`` = Σ of the active clients' totals."""
        result = await run_use_case(request, GetGlobalStats, lambda uc: uc.execute())
        f, t = result.fleet, result.fleet.totals
        return GlobalStatsResponse(
            total_clients=f.active_clients,
            total_agents=t.agents,
            online_agents=t.agents_online,
            primary_instances=t.primary,
            standby_instances=t.standby,
            kept_old_instances=t.kept_old,
            open_episodes=f.open_episodes,
            pools_available=f.pools_available,
            total_savings=num(result.total_savings, 4) or 0.0,
            switches_today=result.switches_today,
            failovers_today=result.failovers_today,
        )

    @get("/export/stats", media_type="text/csv")
    async def export_stats(
        self,
        request: Req,
        days: Days = 30,
        include_inactive: Annotated[bool, Parameter(description="Include inactive clients.")] = False,
    ) -> Response[bytes]:
        """M13: one CSV row per client, oldest first (§1.12)."""
        query = ExportClientStatsQuery(days=days, include_inactive=include_inactive)
        result = await run_use_case(request, ExportClientStats, lambda uc: uc.execute(query))
        rows: list[list[Cell]] = [
            [
                r.client.client_id,
                r.client.name,
                r.client.email,
                r.client.status.value,
                r.client.created_at,
                r.counts.agents,
                r.counts.agents_online,
                r.counts.primary,
                r.counts.standby,
                r.counts.kept_old,
                r.switches,
                r.failovers,
                r.savings,
                r.total_savings,
            ]
            for r in result.rows
        ]
        return csv_response(f"spotopt-stats-{result.now:%Y%m%d}.csv", STATS_CSV_HEADER, rows)
