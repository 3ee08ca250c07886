"""Savings routes C18, C20, C21 (``/api/client/{client_id}``): tenant-locked reads of the one savings reader."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from spotopt.application.ledger.get_client_savings import GetClientSavings, GetClientSavingsQuery
from spotopt.application.ledger.get_savings_charts import GetSavingsCharts, GetSavingsChartsQuery
from spotopt.entrypoints.http.auth import client_guard
from spotopt.entrypoints.http.csv_export import csv_response
from spotopt.entrypoints.http.ledger.schemas import (
    SAVINGS_CSV_HEADER,
    ClientSavingsResponse,
    SavingsChartsResponse,
    charts_response,
    savings_csv_rows,
    savings_response,
)
from spotopt.entrypoints.http.queries import Days
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.tenancy import own_client

Req = Request[Any, Any, Any]


class SavingsController(Controller):
    path = "/api/client"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @get("/{client_id:str}/savings")
    async def savings(self, request: Req, client_id: FromPath[str], days: Days = 30) -> ClientSavingsResponse:
        """C18: savings figures of the ledger window (LG-5, domain §5.3); rates and projections at now."""
        query = GetClientSavingsQuery(client_id=own_client(request, client_id), days=days)
        result = await run_use_case(request, GetClientSavings, lambda uc: uc.execute(query))
        return savings_response(days, result)

    @get("/{client_id:str}/stats/charts")
    async def charts(self, request: Req, client_id: FromPath[str], days: Days = 30) -> SavingsChartsResponse:
        """C20: daily savings of the ledger window, primaries by mode, switch origins of the rolling window."""
        query = GetSavingsChartsQuery(client_id=own_client(request, client_id), days=days)
        result = await run_use_case(request, GetSavingsCharts, lambda uc: uc.execute(query))
        return charts_response(result)

    @get("/{client_id:str}/export/savings", media_type="text/csv")
    async def export_savings(self, request: Req, client_id: FromPath[str], days: Days = 30) -> Response[bytes]:
        """C21: one CSV row per day of the ledger window, oldest first (§1.12)."""
        query = GetClientSavingsQuery(client_id=own_client(request, client_id), days=days)
        result = await run_use_case(request, GetClientSavings, lambda uc: uc.execute(query))
        filename = f"savings-{query.client_id}-{result.now:%Y%m%d}.csv"
        return csv_response(filename, SAVINGS_CSV_HEADER, savings_csv_rows(result.savings.days))
