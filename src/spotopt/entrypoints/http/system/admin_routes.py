"""Admin read routes (``/api/admin``): M4 token metadata, M6 growth, M8 instances, M9 agents, M10 activity,
M11 system health, M12 search. Admin realm only; every list is paged (§1.8).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, Parameter, QueryParameter

from spotopt.application.agents.list_all_agents import ListAllAgents, ListAllAgentsQuery
from spotopt.application.agents.list_all_instances import DEFAULT_ROLES, ListAllInstances, ListAllInstancesQuery
from spotopt.application.clients.get_client_growth import GetClientGrowth, GetClientGrowthQuery
from spotopt.application.clients.get_token_metadata import GetTokenMetadata, GetTokenMetadataQuery
from spotopt.application.ports.admin_views import HIT_ORDER, HitType
from spotopt.application.system.get_system_health import GetSystemHealth
from spotopt.application.system.list_activity import ListActivity, ListActivityQuery
from spotopt.application.system.search_fleet import MAX_QUERY, MIN_QUERY, SearchFleet, SearchFleetQuery
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.http.auth import admin_guard
from spotopt.entrypoints.http.queries import CommaList, Days, Limit, Offset, comma_list
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.system.admin_schemas import (
    TOKEN_MESSAGE,
    ActivityResponse,
    AgentsResponse,
    DecisionEngineBody,
    GrowthPoint,
    GrowthResponse,
    InstancesResponse,
    JobBody,
    SearchResponse,
    SystemHealthResponse,
    TokenMetadataResponse,
    agent_body,
    event_body,
    instance_body,
    search_result,
)
from spotopt.entrypoints.http.wire import dt

Req = Request[Any, Any, Any]
ROLES = frozenset(r.value for r in InstanceRole)
MODES = frozenset(m.value for m in (Mode.SPOT, Mode.ONDEMAND))
STATUSES = frozenset(s.value for s in DisplayStatus)
SEVERITIES = frozenset(s.value for s in Severity)
HIT_TYPES = frozenset(t.value for t in HitType)
ClientFilter = Annotated[str | None, Parameter(description="Only this client's rows.")]
# Required by M12, but typed optional so that a missing ``q`` answers ``detail.field`` = ``q`` (§1.4).
SearchText = Annotated[
    str | None,
    Parameter(
        min_length=MIN_QUERY, max_length=MAX_QUERY, description="Required: a case-insensitive substring, 2-100 chars."
    ),
]


def _roles(raw: str | None) -> frozenset[InstanceRole]:
    """As C10: a comma list of roles, or ``all``; omitted = the live roles."""
    if raw == "all":
        return frozenset(InstanceRole)
    items = comma_list("role", raw, ROLES)
    return frozenset(InstanceRole(r) for r in items) if items else DEFAULT_ROLES


class AdminReadController(Controller):
    path = "/api/admin"
    guards = [admin_guard]
    opt = {"group": "admin"}

    @get("/clients/{client_id:str}/token")
    async def token_metadata(self, request: Req, client_id: FromPath[str]) -> TokenMetadataResponse:
        """M4: token metadata; the token itself is never returned (it is stored only as a hash)."""
        meta = await run_use_case(
            request, GetTokenMetadata, lambda uc: uc.execute(GetTokenMetadataQuery(client_id=client_id))
        )
        return TokenMetadataResponse(
            client_id=meta.client_id,
            token_hint=meta.token_hint,
            token_issued_at=dt(meta.token_issued_at) or "",
            retrievable=False,
            message=TOKEN_MESSAGE,
        )

    @get("/clients/growth")
    async def client_growth(self, request: Req, days: Days = 30) -> GrowthResponse:
        """M6: ClientGrowthDaily snapshots of the last ``days`` dates up to yesterday, oldest first."""
        result = await run_use_case(request, GetClientGrowth, lambda uc: uc.execute(GetClientGrowthQuery(days=days)))
        points = [
            GrowthPoint(
                date=s.day.isoformat(),
                total_clients=s.total_clients,
                new_clients=s.new_clients,
                active_clients=s.active_clients,
            )
            for s in result.growth
        ]
        return GrowthResponse(days=result.days, growth=points)

    @get("/instances")
    async def instances(
        self,
        request: Req,
        client_id: ClientFilter = None,
        role: CommaList = None,
        mode: Annotated[str | None, Parameter(description="`spot` or `ondemand`.")] = None,
        region: Annotated[str | None, Parameter(description="AWS region.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> InstancesResponse:
        """M8: all instances with their client's name, newest ``first_seen_at`` first."""
        modes = comma_list("mode", mode, MODES)
        query = ListAllInstancesQuery(
            client_id=client_id,
            roles=_roles(role),
            mode=Mode(modes[0]) if len(modes) == 1 else None,
            region=region,
            limit=limit,
            offset=offset,
        )
        result = await run_use_case(request, ListAllInstances, lambda uc: uc.execute(query))
        return InstancesResponse(instances=[instance_body(i) for i in result.instances], total=result.total)

    @get("/agents")
    async def agents(
        self,
        request: Req,
        client_id: ClientFilter = None,
        status: CommaList = None,
        include_deleted: Annotated[bool, Parameter(description="Include deleted agents.")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AgentsResponse:
        """M9: all agents with their client's name, newest ``last_heartbeat_at`` first (never seen last)."""
        statuses = frozenset(DisplayStatus(s) for s in comma_list("status", status, STATUSES))
        query = ListAllAgentsQuery(
            client_id=client_id, statuses=statuses, include_deleted=include_deleted, limit=limit, offset=offset
        )
        result = await run_use_case(request, ListAllAgents, lambda uc: uc.execute(query))
        return AgentsResponse(agents=[agent_body(a, result.now) for a in result.agents], total=result.total)

    @get("/activity")
    async def activity(
        self,
        request: Req,
        days: Days = 7,
        severity: CommaList = None,
        kind: Annotated[str | None, QueryParameter(name="type", description="Comma list of event types.")] = None,
        client_id: ClientFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ActivityResponse:
        """M10: system events of the rolling window, newest first."""
        query = ListActivityQuery(
            days=days,
            severities=frozenset(Severity(s) for s in comma_list("severity", severity, SEVERITIES)),
            types=frozenset(comma_list("type", kind)),
            client_id=client_id,
            limit=limit,
            offset=offset,
        )
        result = await run_use_case(request, ListActivity, lambda uc: uc.execute(query))
        return ActivityResponse(activity=[event_body(e) for e in result.events], total=result.total)

    @get("/system-health")
    async def system_health(self, request: Req) -> SystemHealthResponse:
        """M11: operational detail; ``background_jobs`` as H1; 503 ``unavailable`` when the database is down."""
        health = await run_use_case(request, GetSystemHealth, lambda uc: uc.execute())
        e = health.engine
        return SystemHealthResponse(
            database="ok",
            background_jobs=health.background_jobs,
            stale_agents=health.counts.stale_agents,
            failed_replicas_24h=health.counts.failed_replicas_24h,
            recent_errors_1h=health.counts.recent_errors_1h,
            open_episodes=health.counts.open_episodes,
            jobs=[
                JobBody(
                    name=j.name,
                    schedule=j.schedule,
                    last_tick=dt(j.last_tick),
                    last_status=j.last_status,
                    last_duration_ms=j.last_duration_ms,
                    next_tick=dt(j.next_tick),
                )
                for j in health.jobs
            ],
            decision_engine=DecisionEngineBody(
                engine_kind=e.engine_kind,
                policy_version=e.policy_version,
                risk_model_version=e.risk_model_version,
                price_model_version=e.price_model_version,
                fallback_active=e.fallback_active,
            ),
            timestamp=dt(health.timestamp) or "",
        )

    @get("/search")
    async def search(
        self,
        request: Req,
        q: SearchText = None,
        kind: Annotated[str | None, QueryParameter(name="type", description="Comma list of result types.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SearchResponse:
        """M12: clients, agents, instances and replicas matching ``q``; exact id matches first."""
        if q is None:
            raise InvalidValueError("q", "is required")
        types = frozenset(HitType(t) for t in comma_list("type", kind, HIT_TYPES)) or frozenset(HIT_ORDER)
        query = SearchFleetQuery(text=q, types=types, limit=limit, offset=offset)
        result = await run_use_case(request, SearchFleet, lambda uc: uc.execute(query))
        return SearchResponse(query=result.query, results=[search_result(h) for h in result.hits], total=result.total)
