"""Request shapes and wire objects of the replica routes R1 – R9 and A10 (api.md §4, §3 A10, Appendix A.4).

Unknown body fields are ignored (§1.4). Datetimes leave as ``Z`` strings, decimals as JSON numbers (§1.6, §1.7).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from spotopt.application.interruptions.signal_intake import SignalOutcome
from spotopt.application.replicas.promotion import PromotionResult
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.pools import PoolId
from spotopt.entrypoints.http.agents.schemas import Ec2Id
from spotopt.entrypoints.http.wire import dt, num

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
    sync_status: SyncName | None = None
    sync_latency_ms: Annotated[int, msgspec.Meta(ge=0, le=86_400_000)] | None = None
    state_transfer_progress: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None
    status: Literal["syncing", "ready"] | None = None
    client_token: str | None = None


class EmergencyReplicaRequest(msgspec.Struct, kw_only=True):
    signal_type: Literal["rebalance-recommendation", "termination-notice"]
    instance_id: Ec2Id | None = None
    termination_time: datetime | None = None
    detected_at: datetime | None = None
    pool_id: Text255 | None = None
    preferred_zones: Zones | None = None
    exclude_zones: Zones | None = None
    client_token: str | None = None


class TerminationImminentRequest(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id | None = None
    termination_time: datetime | None = None
    detected_at: datetime | None = None
    replica_id: Text255 | None = None
    client_token: str | None = None


class RebalanceRequest(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id | None = None
    detected_at: datetime | None = None
    notice_time: datetime | None = None
    client_token: str | None = None


def pool_body(pool_id: str) -> dict[str, str]:
    """A.13 Pool."""
    pool = PoolId.parse(pool_id)
    return {
        "id": str(pool),
        "name": pool.name,
        "instance_type": pool.instance_type,
        "region": pool.region,
        "az": pool.az,
    }


def replica_response(replica: Replica, now: datetime) -> dict[str, Any]:
    """A.4 Replica: every field, top-level ``pool_id``/``az`` never null (W29), ``instance_id`` null until launched."""
    return {
        "id": replica.replica_id,
        "agent_id": replica.agent_id,
        "kind": replica.kind.value,
        "status": replica.status.value,
        "pool_id": replica.pool_id,
        "az": replica.az,
        "pool": pool_body(replica.pool_id),
        "instance_type": replica.instance_type,
        "region": replica.region,
        "instance_id": replica.instance_id,
        "parent_instance_id": replica.parent_instance_id,
        "episode_id": replica.episode_id,
        "created_by": replica.created_by,
        "sync_status": replica.sync_status.value,
        "state_transfer_progress": num(replica.state_transfer_progress, 2),
        "sync_latency_ms": replica.sync_latency_ms,
        "last_sync_at": dt(replica.last_sync_at),
        "hourly_price_at_creation": num(replica.hourly_price_at_creation),
        "launch_claims": replica.launch_claims,
        "launch_lease_expires_at": dt(replica.launch_lease_expires_at),
        "degraded_promotion": replica.degraded_promotion,
        "is_active": replica.is_active,
        "termination_reason": replica.termination_reason,
        "failure_reason": replica.failure_reason,
        "tags": dict(replica.tags),
        "created_at": dt(replica.created_at),
        "launched_at": dt(replica.launched_at),
        "sync_started_at": dt(replica.sync_started_at),
        "ready_at": dt(replica.ready_at),
        "promoted_at": dt(replica.promoted_at),
        "terminated_at": dt(replica.terminated_at),
        "termination_confirmed_at": dt(replica.termination_confirmed_at),
        "failed_at": dt(replica.failed_at),
        "age_seconds": max(0, int((now - replica.created_at).total_seconds())),
    }


def created_body(replica: Replica, created: bool, now: datetime) -> dict[str, Any]:
    """R1 2xx: ``success``, ``created``, ``replica_id`` and the Replica object."""
    return {"success": True, "created": created, "replica_id": replica.replica_id, **replica_response(replica, now)}


def emergency_body(outcome: SignalOutcome) -> dict[str, Any]:
    """R8 2xx: the Replica object plus ``urgency``, the episode and the action (W32-W34)."""
    replica = outcome.replica
    body: dict[str, Any] = {"success": True, "created": outcome.created}
    if replica is not None:
        body.update(replica_response(replica, outcome.now))
    episode = outcome.episode
    body.update(
        replica_id=replica.replica_id if replica is not None else None,
        replica_instance_id=replica.instance_id if replica is not None else None,
        urgency="critical" if outcome.kind.value == "termination" else "high",
        episode_id=episode.episode_id if episode is not None else None,
        episode_state=episode.state.value if episode is not None else None,
        action=outcome.action.value,
    )
    return body


def failover_body(outcome: SignalOutcome) -> dict[str, Any]:
    """R9 200: a promotion committed for the notice's episode, now or earlier (W36)."""
    episode, promotion = outcome.episode, outcome.promotion
    replica = outcome.replica
    return {
        "success": True,
        "action": outcome.action.value,
        "message": "Automatic failover completed",
        "new_instance_id": promotion.new_instance_id if promotion else episode.new_instance_id if episode else None,
        "old_instance_id": episode.instance_id if episode is not None else None,
        "replica_id": replica.replica_id if replica is not None else None,
        "episode_id": episode.episode_id if episode is not None else None,
        "deadline": dt(episode.deadline) if episode is not None else None,
        "failover_ms": episode.failover_ms if episode is not None else None,
        "degraded": episode.degraded if episode is not None else False,
    }


def pending_failover_body(outcome: SignalOutcome) -> dict[str, Any]:
    """R9 202: the notice is accepted but the failover is not complete (``success`` false, EP-4, W37)."""
    episode, replica = outcome.episode, outcome.replica
    if outcome.action.value == "failover_scheduled" and replica is not None:
        message = (
            f"Replica {replica.replica_id} is {replica.status.value}; it will be promoted when ready or 30 s "
            "before the deadline"
        )
    else:
        message = f"No replica is possible; an emergency switch to on-demand was queued ({outcome.command_id})"
    return {
        "success": False,
        "action": outcome.action.value,
        "message": message,
        "episode_id": episode.episode_id if episode is not None else None,
        "deadline": dt(episode.deadline) if episode is not None else None,
        "replica_id": replica.replica_id if replica is not None else None,
        "command_id": outcome.command_id if outcome.action.value == "ondemand_fallback_queued" else None,
    }


def rebalance_body(outcome: SignalOutcome) -> dict[str, Any]:
    """A10 200 (W35): episode fields null when the signal is not on the primary."""
    episode, replica = outcome.episode, outcome.replica
    return {
        "success": True,
        "action": outcome.action.value,
        "episode_id": episode.episode_id if episode is not None else None,
        "episode_state": episode.state.value if episode is not None else None,
        "replica_id": replica.replica_id if replica is not None else None,
        "replica_status": replica.status.value if replica is not None else None,
        "pool_id": replica.pool_id if replica is not None else None,
        "attributed_role": outcome.attributed_role.value,
    }


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
