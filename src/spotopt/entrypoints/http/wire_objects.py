"""Appendix A wire objects more than one HTTP feature answers with: the Command (A.5), the Replica (A.4) and its
Pool (A.13).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.shared.pools import PoolId
from spotopt.entrypoints.http.wire import dt, num


def delivered_command(command: AgentCommand) -> dict[str, Any]:
    """A.5 DeliveredCommand: every field agent v4 reads, at top level (W16)."""
    return {
        "id": command.command_id,
        "command_type": command.type.value,
        "target_mode": command.target_mode.value,
        "target_pool_id": command.target_pool_id,
        "terminate_wait_seconds": command.terminate_wait_seconds,
        "priority": command.priority,
        "instance_id": command.target_instance_id,
        "created_at": dt(command.created_at),
    }


def command_body(command: AgentCommand) -> dict[str, Any]:
    """A.5 Command (A14, C16 responses)."""
    return {
        **delivered_command(command),
        "agent_id": command.agent_id,
        "origin": command.origin.value,
        "status": command.status.value,
        "motive": command.motive,
        "reason": command.reason,
        "decision_id": command.decision_id,
        "episode_id": command.episode_id,
        "expires_at": dt(command.expires_at),
        "delivered_at": dt(command.delivered_at),
        "lease_expires_at": dt(command.lease_expires_at),
        "delivery_count": command.delivery_count,
        "superseded_command_id": command.superseded_command_id,
    }


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
