"""Switch-history routes C19 and C22 (``/api/client/{client_id}``): tenant-locked, rolling window."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery

from spotopt.application.commands.list_switch_history import ListSwitchHistory, ListSwitchHistoryQuery
from spotopt.domain.commands.values import CommandOrigin
from spotopt.entrypoints.http.auth import client_guard
from spotopt.entrypoints.http.commands.history_schemas import (
    HISTORY_CSV_HEADER,
    SwitchHistoryResponse,
    history_csv_row,
    switch_response,
)
from spotopt.entrypoints.http.csv_export import MAX_ROWS, csv_response
from spotopt.entrypoints.http.queries import CommaList, Days, Limit, Offset, comma_list
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.tenancy import own_client

Req = Request[Any, Any, Any]
ORIGINS = frozenset({*(o.value for o in CommandOrigin), "agent"})


class SwitchHistoryController(Controller):
    path = "/api/client"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @get("/{client_id:str}/switch-history")
    async def history(
        self,
        request: Req,
        client_id: FromPath[str],
        days: Days = 30,
        agent_id: FromQuery[str | None] = None,
        instance_id: FromQuery[str | None] = None,
        origin: CommaList = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SwitchHistoryResponse:
        """C19: Switch records (A.6) of the rolling window, newest ``received_at`` first, paged."""
        query = ListSwitchHistoryQuery(
            client_id=own_client(request, client_id),
            days=days,
            agent_id=agent_id,
            instance_id=instance_id,
            origins=frozenset(comma_list("origin", origin, ORIGINS)),
            limit=limit,
            offset=offset,
        )
        result = await run_use_case(request, ListSwitchHistory, lambda uc: uc.execute(query))
        return SwitchHistoryResponse(history=[switch_response(s) for s in result.switches], total=result.total)

    @get("/{client_id:str}/export/history", media_type="text/csv")
    async def export_history(self, request: Req, client_id: FromPath[str], days: Days = 30) -> Response[bytes]:
        """C22: Switch records of the rolling window as CSV, newest first (§1.12, at most 100 000 rows)."""
        query = ListSwitchHistoryQuery(client_id=own_client(request, client_id), days=days, limit=MAX_ROWS + 1)
        result = await run_use_case(request, ListSwitchHistory, lambda uc: uc.execute(query))
        filename = f"switch-history-{query.client_id}-{result.now:%Y%m%d}.csv"
        return csv_response(filename, HISTORY_CSV_HEADER, (history_csv_row(s) for s in result.switches))
