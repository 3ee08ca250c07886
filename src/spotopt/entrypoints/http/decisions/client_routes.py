"""Client route C4 (``/api/client``): stored decisions of the client's agents, paged (api.md §5)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from spotopt.application.decisions.list_client_decisions import ListClientDecisions, ListClientDecisionsQuery
from spotopt.application.ports.client_views import PageRequest
from spotopt.domain.decisions.decision import Action
from spotopt.domain.decisions.inputs import Trigger
from spotopt.entrypoints.http.auth import client_guard
from spotopt.entrypoints.http.client_queries import AgentIdFilter, enum_set
from spotopt.entrypoints.http.decisions.schemas import decision_body
from spotopt.entrypoints.http.queries import CommaList, Days, Limit, Offset
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.tenancy import own_client

Req = Request[Any, Any, Any]


class ClientDecisionController(Controller):
    path = "/api/client"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @get("/{client_id:str}/agents/decisions")
    async def decisions(
        self,
        request: Req,
        client_id: FromPath[str],
        days: Days = 7,
        agent_id: AgentIdFilter = None,
        trigger: CommaList = None,
        action: CommaList = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """C4: decisions (A.7) of the rolling window, newest ``evaluated_at`` first."""
        query = ListClientDecisionsQuery(
            client_id=own_client(request, client_id),
            days=days,
            agent_id=agent_id,
            triggers=enum_set("trigger", trigger, Trigger),
            actions=enum_set("action", action, Action),
            page=PageRequest(limit=limit, offset=offset),
        )
        result = await run_use_case(request, ListClientDecisions, lambda uc: uc.execute(query))
        decisions = [decision_body(v.decision, v.logical_agent_id) for v in result.decisions]
        return {"decisions": decisions, "total": result.total}
