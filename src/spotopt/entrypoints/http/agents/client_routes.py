"""Client routes C3 and C10 (``/api/client``): the client's agents and instances, paged (api.md §5, §1.8)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.params import FromPath, Parameter

from spotopt.application.agents.list_client_agents import ListClientAgents, ListClientAgentsQuery
from spotopt.application.agents.list_client_instances import (
    LIVE_ROLES,
    ListClientInstances,
    ListClientInstancesQuery,
)
from spotopt.application.ports.client_views import PageRequest
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.agents.values import InstanceRole, KeptReason
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.http.agents.client_schemas import agent_body, instance_body
from spotopt.entrypoints.http.auth import client_guard
from spotopt.entrypoints.http.client_queries import AgentIdFilter, Flag, enum_set, flag
from spotopt.entrypoints.http.queries import CommaList, Limit, Offset
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.tenancy import own_client

Req = Request[Any, Any, Any]
ALL_ROLES = "all"
ModeFilter = Annotated[Literal["spot", "ondemand"] | None, Parameter(description="`spot` or `ondemand`.")]


class ClientAgentController(Controller):
    path = "/api/client"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @get("/{client_id:str}/agents")
    async def agents(
        self,
        request: Req,
        client_id: FromPath[str],
        status: CommaList = None,
        include_deleted: Flag = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """C3: agents (A.2), newest ``created_at`` first; ``status`` filters on the display status (B.1)."""
        query = ListClientAgentsQuery(
            client_id=own_client(request, client_id),
            statuses=enum_set("status", status, DisplayStatus),
            include_deleted=flag("include_deleted", include_deleted),
            page=PageRequest(limit=limit, offset=offset),
        )
        result = await run_use_case(request, ListClientAgents, lambda uc: uc.execute(query))
        return {"agents": [agent_body(v, result.now) for v in result.agents], "total": result.total}

    @get("/{client_id:str}/instances")
    async def instances(
        self,
        request: Req,
        client_id: FromPath[str],
        role: CommaList = None,
        kept_reason: CommaList = None,
        mode: ModeFilter = None,
        agent_id: AgentIdFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """C10: instances (A.3) by role (default ``primary,standby,kept_old``; ``all``), newest first."""
        own = own_client(request, client_id)
        roles = frozenset(InstanceRole) if role == ALL_ROLES else enum_set("role", role, InstanceRole) or LIVE_ROLES
        query = ListClientInstancesQuery(
            client_id=own,
            roles=roles,
            kept_reasons=enum_set("kept_reason", kept_reason, KeptReason),
            mode=Mode(mode) if mode else None,
            agent_id=agent_id,
            page=PageRequest(limit=limit, offset=offset),
        )
        result = await run_use_case(request, ListClientInstances, lambda uc: uc.execute(query))
        return {"instances": [instance_body(v) for v in result.instances], "total": result.total}
