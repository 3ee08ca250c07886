"""Client routes C1 and C2 (``/api/client``): the token's client and its summary (api.md §5)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from spotopt.application.clients.get_client_summary import GetClientSummary, GetClientSummaryQuery
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.clients.client_schemas import ClientSummaryResponse, ClientValidResponse, summary_body
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.tenancy import own_client

Req = Request[Any, Any, Any]


class ClientController(Controller):
    path = "/api/client"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @get("/validate")
    async def validate(self, request: Req) -> ClientValidResponse:
        """C1: the token is valid; its client. No side effects."""
        query = GetClientSummaryQuery(client_id=client_id_of(request), with_figures=False)
        result = await run_use_case(request, GetClientSummary, lambda uc: uc.execute(query))
        client = result.client
        return ClientValidResponse(valid=True, client_id=client.client_id, name=client.name, email=client.email)

    @get("/{client_id:str}")
    async def summary(self, request: Req, client_id: FromPath[str]) -> ClientSummaryResponse:
        """C2: the client summary; another client's id → 403 ``client_mismatch`` (§1.3)."""
        query = GetClientSummaryQuery(client_id=own_client(request, client_id))
        result = await run_use_case(request, GetClientSummary, lambda uc: uc.execute(query))
        return summary_body(result)
