"""Client route C17 (``/api/client``): the client's replicas, paged; a pure read (api.md §5)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from spotopt.application.ports.client_views import PageRequest
from spotopt.application.replicas.list_client_replicas import ListClientReplicas, ListClientReplicasQuery
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.entrypoints.http.auth import client_guard
from spotopt.entrypoints.http.client_queries import AgentIdFilter, enum_set
from spotopt.entrypoints.http.queries import CommaList, Limit, Offset
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.tenancy import own_client
from spotopt.entrypoints.http.wire_objects import replica_response

Req = Request[Any, Any, Any]


class ClientReplicaController(Controller):
    path = "/api/client"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @get("/{client_id:str}/replicas")
    async def replicas(
        self,
        request: Req,
        client_id: FromPath[str],
        status: CommaList = None,
        agent_id: AgentIdFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """C17: replicas (A.4 + ``logical_agent_id``), newest ``created_at`` first; default live statuses."""
        query = ListClientReplicasQuery(
            client_id=own_client(request, client_id),
            statuses=enum_set("status", status, ReplicaStatus) or NON_TERMINAL_REPLICA,
            agent_id=agent_id,
            page=PageRequest(limit=limit, offset=offset),
        )
        result = await run_use_case(request, ListClientReplicas, lambda uc: uc.execute(query))
        replicas = [
            {**replica_response(v.replica, result.now), "logical_agent_id": v.logical_agent_id} for v in result.replicas
        ]
        return {"replicas": replicas, "total": result.total}
