"""Replica routes R1 – R7 (``/api/agents``): map the request, run one use case, map the result."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from spotopt.application.replicas.attach_replica_instance import AttachReplicaInstance, AttachReplicaInstanceCommand
from spotopt.application.replicas.create_replica import CreateReplica, CreateReplicaCommand
from spotopt.application.replicas.list_replicas import ListReplicas, ListReplicasQuery
from spotopt.application.replicas.promote_replica import PromoteReplica, PromoteReplicaCommand
from spotopt.application.replicas.report_replica_status import ReportReplicaStatus, ReportReplicaStatusCommand
from spotopt.application.replicas.report_replica_sync import ReportReplicaSync, ReportReplicaSyncCommand
from spotopt.application.replicas.retire_replica import RetireReplica, RetireReplicaCommand
from spotopt.domain.interruptions.values import SignalKind
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus, SyncStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.openapi import documented
from spotopt.entrypoints.http.replicas.schemas import (
    ReplicaAttachRequest,
    ReplicaCreateRequest,
    ReplicaPromoteRequest,
    ReplicaStatusRequest,
    ReplicaSyncRequest,
    created_body,
    parse_count,
    parse_flag,
    parse_statuses,
    promotion_body,
)
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.wire import dt, num
from spotopt.entrypoints.http.wire_objects import replica_response

AgentPath = FromPath[str]
ReplicaPath = FromPath[str]
Query = FromQuery[str | None]
_STATUS = "(launching|syncing|ready|promoted|terminated|failed)"
# What parse_statuses / parse_flag / parse_count accept, stated for the OpenAPI document (schema_extra: docs only).
StatusQuery = Annotated[str | None, Parameter(schema_extra={"pattern": rf"^( *{_STATUS}? *)(, *{_STATUS}? *)*$"})]
FlagQuery = Annotated[str | None, Parameter(schema_extra={"enum": ["true", "false", "1", "0"]})]
LimitQuery = Annotated[str | None, Parameter(schema_extra={"pattern": "^0*([1-9][0-9]?|[1-4][0-9]{2}|500)$"})]
OffsetQuery = Annotated[str | None, Parameter(schema_extra={"pattern": "^[0-9]+$"})]
Req = Request[Any, Any, Any]
Body = Response[dict[str, Any]]
SIGNAL_KINDS = {"rebalance-recommendation": SignalKind.REBALANCE, "termination-notice": SignalKind.TERMINATION}
EXEMPT = {"rate_bucket": "exempt"}


class ReplicaController(Controller):
    path = "/api/agents"
    guards = [client_guard]
    opt = {"group": "replica", "rate_bucket": "agent"}

    @post("/{agent_id:str}/replicas", responses=documented(200, 409, 422))
    async def create(self, request: Req, agent_id: AgentPath, data: JSONBody[ReplicaCreateRequest]) -> Body:
        """R1: register an agent-launched replica (201, or 200 for a known ``instance_id``) or request one (201)."""
        command = CreateReplicaCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            instance_id=data.instance_id,
            replica_type=ReplicaKind(data.replica_type or "manual"),
            pool_id=data.pool_id,
            status=ReplicaStatus(data.status) if data.status else None,
            tags=dict(data.tags or {}),
            exclude_zones=tuple(data.exclude_zones or ()),
            max_hourly_cost=Decimal(repr(data.max_hourly_cost)) if data.max_hourly_cost is not None else None,
            created_by_label=data.created_by,
        )
        result = await run_use_case(request, CreateReplica, lambda uc: uc.execute(command))
        return Response(
            created_body(result.replica, result.created, result.now), status_code=201 if result.created else 200
        )

    @get("/{agent_id:str}/replicas")
    async def list_(
        self,
        request: Req,
        agent_id: AgentPath,
        status: StatusQuery = None,
        include_terminated: FlagQuery = None,
        limit: LimitQuery = None,
        offset: OffsetQuery = None,
    ) -> dict[str, Any]:
        """R2: newest first, paged; ``status=launching`` exactly is the launcher's claim (L3, RP-10)."""
        query = ListReplicasQuery(
            client_id=client_id_of(request),
            agent_id=agent_id,
            statuses=parse_statuses(status),
            include_terminated=parse_flag("include_terminated", include_terminated),
            limit=parse_count("limit", limit, 50, 1, 500),
            offset=parse_count("offset", offset, 0, 0),
        )
        result = await run_use_case(request, ListReplicas, lambda uc: uc.execute(query))
        replicas = [replica_response(r, result.now) for r in result.replicas]
        return {"success": True, "replicas": replicas, "total": result.total}

    @post("/{agent_id:str}/replicas/{replica_id:str}/promote", status_code=200, responses=documented(409))
    async def promote(
        self, request: Req, agent_id: AgentPath, replica_id: ReplicaPath, data: JSONBody[ReplicaPromoteRequest]
    ) -> dict[str, Any]:
        """R3: manual promotion (§3.7.3); a repeat returns the first result."""
        demote = data.demote_old_primary if data.demote_old_primary is not None else True
        command = PromoteReplicaCommand(
            client_id=client_id_of(request), agent_id=agent_id, replica_id=replica_id, demote_old_primary=demote
        )
        result = await run_use_case(request, PromoteReplica, lambda uc: uc.execute(command))
        return promotion_body(result)

    @delete("/{agent_id:str}/replicas/{replica_id:str}", status_code=200, responses=documented(409))
    async def retire(self, request: Req, agent_id: AgentPath, replica_id: ReplicaPath) -> dict[str, Any]:
        """R4: retire (L11); an already terminated replica answers its recorded values."""
        command = RetireReplicaCommand(client_id=client_id_of(request), agent_id=agent_id, replica_id=replica_id)
        result = await run_use_case(request, RetireReplica, lambda uc: uc.execute(command))
        return {
            "success": True,
            "message": "Replica retired",
            "replica_id": result.replica.replica_id,
            "terminated_at": dt(result.terminated_at),
            "instance_id": result.replica.instance_id,
            "instance_role": result.instance_role.value if result.instance_role else None,
        }

    @put("/{agent_id:str}/replicas/{replica_id:str}", status_code=200, responses=documented(409))
    async def attach(
        self, request: Req, agent_id: AgentPath, replica_id: ReplicaPath, data: JSONBody[ReplicaAttachRequest]
    ) -> dict[str, Any]:
        """R5: attach the launched instance id (L4/L5); the same id again is a no-op (L16)."""
        command = AttachReplicaInstanceCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            replica_id=replica_id,
            instance_id=data.instance_id,
            status=ReplicaStatus(data.status or "syncing"),
        )
        replica = await run_use_case(request, AttachReplicaInstance, lambda uc: uc.execute(command))
        return {
            "success": True,
            "replica_id": replica.replica_id,
            "instance_id": replica.instance_id,
            "status": replica.status.value,
        }

    @post("/{agent_id:str}/replicas/{replica_id:str}/status", status_code=200, responses=documented(409))
    async def status(
        self, request: Req, agent_id: AgentPath, replica_id: ReplicaPath, data: JSONBody[ReplicaStatusRequest]
    ) -> dict[str, Any]:
        """R6: a lifecycle status report (§3.3)."""
        command = ReportReplicaStatusCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            replica_id=replica_id,
            status=ReplicaStatus(data.status),
            error_message=data.error_message,
        )
        result = await run_use_case(request, ReportReplicaStatus, lambda uc: uc.execute(command))
        return {
            "success": True,
            "replica_id": result.replica.replica_id,
            "status": result.replica.status.value,
            "previous_status": result.previous_status.value,
        }

    @post("/{agent_id:str}/replicas/{replica_id:str}/sync-status", status_code=200, responses=documented(409))
    async def sync_status(
        self, request: Req, agent_id: AgentPath, replica_id: ReplicaPath, data: JSONBody[ReplicaSyncRequest]
    ) -> dict[str, Any]:
        """R7: sync progress (L6-L8)."""
        if all(v is None for v in (data.sync_status, data.sync_latency_ms, data.state_transfer_progress, data.status)):
            raise InvalidValueError(
                "sync_status", "one of sync_status, sync_latency_ms, progress or status is required"
            )
        progress = data.state_transfer_progress
        command = ReportReplicaSyncCommand(
            client_id=client_id_of(request),
            agent_id=agent_id,
            replica_id=replica_id,
            sync_status=SyncStatus(data.sync_status) if data.sync_status else None,
            sync_latency_ms=data.sync_latency_ms,
            state_transfer_progress=Decimal(repr(progress)) if progress is not None else None,
            status=ReplicaStatus(data.status) if data.status else None,
        )
        replica = await run_use_case(request, ReportReplicaSync, lambda uc: uc.execute(command))
        return {
            "success": True,
            "replica_id": replica.replica_id,
            "status": replica.status.value,
            "sync_status": replica.sync_status.value,
            "sync_latency_ms": replica.sync_latency_ms,
            "state_transfer_progress": num(replica.state_transfer_progress, 2),
            "last_sync_at": dt(replica.last_sync_at),
        }
