"""Wire objects of C3 and C10: Agent (A.2) and Instance (A.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spotopt.application.ports.client_views import AgentView, InstanceView
from spotopt.domain.agents.values import InstanceRole
from spotopt.entrypoints.http.wire import dt, num

THRESHOLD_PLACES = 4


def agent_body(view: AgentView, now: datetime) -> dict[str, Any]:
    """A.2 Agent."""
    agent, thresholds = view.agent, view.agent.thresholds
    beat = agent.last_heartbeat_at
    return {
        "id": agent.agent_id,
        "client_id": agent.client_id,
        "logical_agent_id": agent.logical_agent_id,
        "hostname": agent.hostname,
        "agent_version": agent.agent_version,
        "private_ip": agent.private_ip,
        "public_ip": agent.public_ip,
        "status": view.status.value,
        "lifecycle": agent.lifecycle.value,
        "liveness": agent.liveness.value,
        "reported_status": agent.reported_status.value if agent.reported_status else None,
        "enabled": agent.enabled,
        "auto_switch_enabled": agent.auto_switch_enabled,
        "manual_replica_enabled": agent.manual_replica_enabled,
        "auto_terminate_enabled": agent.auto_terminate_enabled,
        "terminate_wait_seconds": agent.terminate_wait_seconds,
        "thresholds": {
            "min_savings_percent": num(thresholds.min_savings_percent, THRESHOLD_PLACES),
            "risk_threshold": num(thresholds.risk_threshold, THRESHOLD_PLACES),
            "max_switches_per_day": thresholds.max_switches_per_day,
            "max_switches_per_week": thresholds.max_switches_per_week,
            "min_pool_duration_hours": thresholds.min_pool_duration_hours,
            "cooldown_minutes": thresholds.cooldown_minutes,
        },
        "instance_id": agent.primary_instance_id,
        "instance_type": agent.instance_type,
        "region": agent.region,
        "az": agent.az,
        "mode": agent.mode.value if agent.mode else None,
        "pool_id": agent.pool_id,
        "placement_since": dt(agent.placement_since),
        "replica_count": view.replica_count,
        "current_replica_id": view.current_replica_id,
        "last_heartbeat_at": dt(beat),
        "seconds_since_heartbeat": max(0, int((now - beat).total_seconds())) if beat else None,
        "last_switch_at": dt(agent.last_switch_at),
        "last_failover_at": dt(agent.last_failover_at),
        "last_primary_change_at": dt(agent.last_primary_change_at),
        "interruption_count": agent.interruption_count,
        "created_at": dt(agent.created_at),
        "updated_at": dt(agent.updated_at),
        "deleted_at": dt(agent.deleted_at),
    }


def instance_body(view: InstanceView) -> dict[str, Any]:
    """A.3 Instance."""
    instance = view.instance
    return {
        "instance_id": instance.instance_id,
        "client_id": instance.client_id,
        "agent_id": instance.agent_id,
        "logical_agent_id": view.logical_agent_id,
        "role": instance.role.value,
        "kept_reason": instance.kept_reason.value if instance.kept_reason else None,
        "origin": instance.origin.value,
        "is_active": instance.role is not InstanceRole.TERMINATED,
        "instance_type": instance.instance_type,
        "region": instance.region,
        "az": instance.az,
        "mode": instance.mode.value,
        "pool_id": instance.pool_id,
        "ami_id": instance.ami_id,
        "current_price": num(view.current_price),
        "baseline": num(view.baseline),
        "first_seen_at": dt(instance.first_seen_at),
        "launched_at": dt(instance.launched_at),
        "primary_since": dt(instance.primary_since),
        "role_changed_at": dt(instance.role_changed_at),
        "last_seen_at": dt(instance.last_seen_at),
        "termination_expected_at": dt(instance.termination_expected_at),
        "termination_requested_at": dt(instance.termination_requested_at),
        "terminated_at": dt(instance.terminated_at),
        "termination_reason": instance.termination_reason.value if instance.termination_reason else None,
        "termination_confirmed": instance.termination_confirmed,
    }
