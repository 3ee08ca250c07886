"""Request and response shapes of the agent routes (api.md §3, Appendix A). Unknown fields are ignored (§1.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from spotopt.application.agents.config_view import AgentConfigView
from spotopt.domain.commands.command import AgentCommand
from spotopt.entrypoints.http.wire import dt

INSTANCE_ID = r"^i-([0-9a-f]{8}|[0-9a-f]{17})$"
Ec2Id = Annotated[str, msgspec.Meta(pattern=INSTANCE_ID)]
ModeName = Literal["spot", "ondemand", "unknown"]


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length)]


class AgentRegisterRequest(msgspec.Struct, kw_only=True):
    logical_agent_id: _text(255, 1)  # type: ignore[valid-type]
    instance_id: Ec2Id
    instance_type: _text(64, 1)  # type: ignore[valid-type]
    region: _text(32, 1)  # type: ignore[valid-type]
    az: _text(32, 1)  # type: ignore[valid-type]
    mode: ModeName | None = None
    hostname: _text(255) | None = None  # type: ignore[valid-type]
    ami_id: _text(64) | None = None  # type: ignore[valid-type]
    agent_version: _text(32) | None = None  # type: ignore[valid-type]
    private_ip: _text(45) | None = None  # type: ignore[valid-type]
    public_ip: _text(45) | None = None  # type: ignore[valid-type]
    client_token: str | None = None


class HeartbeatRequest(msgspec.Struct, kw_only=True):
    status: str | None = None
    instance_id: Ec2Id | None = None
    instance_type: _text(64) | None = None  # type: ignore[valid-type]
    mode: ModeName | None = None
    az: _text(32) | None = None  # type: ignore[valid-type]
    monitored_instances: Annotated[list[str], msgspec.Meta(max_length=100)] | None = None


class AckRequest(msgspec.Struct, kw_only=True):
    success: bool
    message: _text(2000) | None = None  # type: ignore[valid-type]
    result: dict[str, Any] | None = None


class InstanceFactsBody(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id
    instance_type: _text(64) | None = None  # type: ignore[valid-type]
    region: _text(32) | None = None  # type: ignore[valid-type]
    az: _text(32) | None = None  # type: ignore[valid-type]
    ami_id: _text(64) | None = None  # type: ignore[valid-type]
    mode: ModeName | None = None
    pool_id: _text(100) | None = None  # type: ignore[valid-type]


class TimingBody(msgspec.Struct, kw_only=True):
    switch_initiated_at: datetime | None = None
    initiated_at: datetime | None = None
    ami_created_at: datetime | None = None
    new_instance_launched_at: datetime | None = None
    instance_launched_at: datetime | None = None
    new_instance_ready_at: datetime | None = None
    instance_ready_at: datetime | None = None
    traffic_switched_at: datetime | None = None
    old_instance_terminated_at: datetime | None = None
    old_terminated_at: datetime | None = None


class SnapshotBody(msgspec.Struct, kw_only=True):
    used: bool | None = None
    snapshot_id: str | None = None


class SwitchReportRequest(msgspec.Struct, kw_only=True):
    old_instance: InstanceFactsBody
    new_instance: InstanceFactsBody
    prices: dict[str, float | None] | None = None
    pricing: dict[str, float | None] | None = None
    timing: TimingBody | None = None
    snapshot: SnapshotBody | None = None
    trigger: _text(20, 1) | None = None  # type: ignore[valid-type]
    command_id: _text(255) | None = None  # type: ignore[valid-type]


class TerminationRequest(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id | None = None
    reason: _text(255) | None = None  # type: ignore[valid-type]


class FailedItem(msgspec.Struct, kw_only=True):
    id: str | None = None
    error: str | None = None


class SnapshotsSection(msgspec.Struct, kw_only=True):
    type: str | None = None
    deleted: list[str] = []
    failed: list[FailedItem | str] = []
    cutoff_date: datetime | None = None
    error: str | None = None


class AmisSection(msgspec.Struct, kw_only=True):
    type: str | None = None
    deleted_amis: list[str] = []
    deleted_snapshots: list[str] = []
    failed: list[FailedItem | str] = []
    cutoff_date: datetime | None = None
    error: str | None = None


class CleanupRequest(msgspec.Struct, kw_only=True):
    timestamp: datetime | None = None
    snapshots: SnapshotsSection | None = None
    amis: AmisSection | None = None
    old_instance_id: Ec2Id | None = None
    success: bool | None = None
    cleanup_time_seconds: Annotated[float, msgspec.Meta(ge=0)] | None = None


class AgentConfigResponse(msgspec.Struct, kw_only=True):
    enabled: bool
    auto_switch_enabled: bool
    manual_replica_enabled: bool
    auto_terminate_enabled: bool
    terminate_wait_seconds: int
    replica_enabled: bool
    replica_count: int
    min_savings_percent: float
    risk_threshold: float
    max_switches_per_day: int
    max_switches_per_week: int
    min_pool_duration_hours: int
    cooldown_minutes: int


def config_response(view: AgentConfigView) -> AgentConfigResponse:
    agent, t = view.agent, view.agent.thresholds
    return AgentConfigResponse(
        enabled=agent.enabled,
        auto_switch_enabled=agent.auto_switch_enabled,
        manual_replica_enabled=agent.manual_replica_enabled,
        auto_terminate_enabled=agent.auto_terminate_enabled,
        terminate_wait_seconds=agent.terminate_wait_seconds,
        replica_enabled=agent.manual_replica_enabled,
        replica_count=view.replica_count,
        min_savings_percent=float(t.min_savings_percent),
        risk_threshold=float(t.risk_threshold),
        max_switches_per_day=t.max_switches_per_day,
        max_switches_per_week=t.max_switches_per_week,
        min_pool_duration_hours=t.min_pool_duration_hours,
        cooldown_minutes=t.cooldown_minutes,
    )


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
