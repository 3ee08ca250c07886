"""Request shapes and bodies of the replica routes R1 – R7 (api.md §4, Appendix A.4).

Unknown body fields are ignored (§1.4). Datetimes leave as ``Z`` strings, decimals as JSON numbers (§1.6, §1.7).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from spotopt.application.replicas.promotion import PromotionResult
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.entrypoints.http.schema_rules import at_least_one_of
from spotopt.entrypoints.http.wire import Ec2Id, dt
from spotopt.entrypoints.http.wire_objects import replica_response

Text64 = Annotated[str, msgspec.Meta(max_length=64)]
Text255 = Annotated[str, msgspec.Meta(max_length=255)]
Zones = Annotated[list[Annotated[str, msgspec.Meta(max_length=32)]], msgspec.Meta(max_length=50)]
Tags = Annotated[dict[str, Any], msgspec.Meta(max_length=50)]
KindName = Literal["manual", "automatic-rebalance", "automatic-termination"]
SyncName = Literal["initializing", "syncing", "synced", "out-of-sync"]


class ReplicaCreateRequest(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id | None = None
    replica_type: KindName | None = None
    parent_instance_id: Ec2Id | None = None
    pool_id: Text255 | None = None
    status: Literal["launching", "syncing", "ready"] | None = None
    tags: Tags | None = None
    exclude_zones: Zones | None = None
    max_hourly_cost: Annotated[float, msgspec.Meta(gt=0)] | None = None
    created_by: Text64 | None = None
    client_token: str | None = None


class ReplicaPromoteRequest(msgspec.Struct, kw_only=True):
    demote_old_primary: bool | None = None
    wait_for_sync: bool | None = None
    client_token: str | None = None


class ReplicaAttachRequest(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id
    status: Literal["syncing", "ready"] | None = None
    client_token: str | None = None


class ReplicaStatusRequest(msgspec.Struct, kw_only=True):
    status: Literal["launching", "syncing", "ready", "failed", "terminated"]
    sync_started_at: datetime | None = None
    sync_completed_at: datetime | None = None
    error_message: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    client_token: str | None = None


class ReplicaSyncRequest(msgspec.Struct, kw_only=True):
    openapi_extra: ClassVar[dict[str, Any]] = at_least_one_of(
        "sync_status", "sync_latency_ms", "state_transfer_progress", "status"
    )

    sync_status: SyncName | None = None
    sync_latency_ms: Annotated[int, msgspec.Meta(ge=0, le=86_400_000)] | None = None
    state_transfer_progress: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None
    status: Literal["syncing", "ready"] | None = None
    client_token: str | None = None


def created_body(replica: Replica, created: bool, now: datetime) -> dict[str, Any]:
    """R1 2xx: ``success``, ``created``, ``replica_id`` and the Replica object."""
    return {"success": True, "created": created, "replica_id": replica.replica_id, **replica_response(replica, now)}


def promotion_body(result: PromotionResult) -> dict[str, Any]:
    """R3 200."""
    return {
        "success": True,
        "message": "Replica promoted to primary",
        "replica_id": result.replica.replica_id,
        "new_instance_id": result.new_instance_id,
        "old_instance_id": result.old_instance_id,
        "old_instance_role": result.old_instance_role.value if result.old_instance_role else None,
        "demoted_replica_id": result.demoted_replica_id,
        "promoted_at": dt(result.promoted_at),
    }


def parse_statuses(raw: str | None) -> frozenset[ReplicaStatus] | None:
    """R2 ``status``: a comma list of replica statuses; unknown values are a 400 on ``status``."""
    if raw is None:
        return None
    names = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return frozenset(ReplicaStatus(name) for name in names) or None
    except ValueError as exc:
        raise InvalidValueError("status", "must be a comma list of replica statuses") from exc


def parse_flag(name: str, raw: str | None) -> bool:
    """§1.4 query booleans: ``true``/``false``/``1``/``0``."""
    if raw is None:
        return False
    if raw not in _FLAGS:
        raise InvalidValueError(name, "must be true, false, 1 or 0")
    return _FLAGS[raw]


def parse_count(name: str, raw: str | None, default: int, low: int, high: int | None = None) -> int:
    """§1.8 ``limit`` (1-500) / ``offset`` (>= 0): base-10 integers in range, else 400 on the parameter."""
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= (high if high is not None else int(raw)):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise InvalidValueError(name, f"must be an integer {bounds}")
    return int(raw)


_FLAGS = {"true": True, "1": True, "false": False, "0": False}
