"""Request and response shapes of the agent routes A1 – A3, A8, A9, A11 (api.md §3, Appendix A). Unknown fields are
ignored (§1.4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

import msgspec

from spotopt.application.agents.config_view import AgentConfigView
from spotopt.entrypoints.http.schema_rules import at_least_one_of, enum_of
from spotopt.entrypoints.http.wire import Ec2Id, ModeName
from spotopt.entrypoints.http.wire import text as _text


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
    openapi_extra: ClassVar[dict[str, Any]] = {
        "properties": {"status": enum_of("online", "disabled", "offline", "switching", "error")}  # H-6
    }

    status: str | None = None
    instance_id: Ec2Id | None = None
    instance_type: _text(64) | None = None  # type: ignore[valid-type]
    mode: ModeName | None = None
    az: _text(32) | None = None  # type: ignore[valid-type]
    monitored_instances: Annotated[list[str], msgspec.Meta(max_length=100)] | None = None


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
    openapi_extra: ClassVar[dict[str, Any]] = at_least_one_of("snapshots", "amis", "old_instance_id")

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
