"""Wire shapes of the admin read routes M4, M6, M8 – M12 (api.md §7, appendices A.2, A.3, A.11)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from spotopt.application.agents.list_all_agents import AgentSummary
from spotopt.application.ports.admin_views import InstanceListing, SearchHit
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.shared.time import utc_iso
from spotopt.entrypoints.http.wire import dt, num

TOKEN_MESSAGE = "Tokens are shown only at creation and rotation; use regenerate-token to issue a new one"


class TokenMetadataResponse(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    token_hint: str
    token_issued_at: str
    retrievable: Literal[False]
    message: str


class GrowthPoint(msgspec.Struct, frozen=True, kw_only=True):
    date: str
    total_clients: int
    new_clients: int
    active_clients: int | None


class GrowthResponse(msgspec.Struct, frozen=True, kw_only=True):
    days: int
    growth: list[GrowthPoint]


class ThresholdsBody(msgspec.Struct, frozen=True, kw_only=True):
    min_savings_percent: float
    risk_threshold: float
    max_switches_per_day: int
    max_switches_per_week: int
    min_pool_duration_hours: int
    cooldown_minutes: int


class AdminAgent(msgspec.Struct, frozen=True, kw_only=True):
    """A.2 Agent + ``client_name`` (M9)."""

    id: str
    client_id: str
    client_name: str
    logical_agent_id: str
    hostname: str | None
    agent_version: str | None
    private_ip: str | None
    public_ip: str | None
    status: str
    lifecycle: str
    liveness: str
    reported_status: str | None
    enabled: bool
    auto_switch_enabled: bool
    manual_replica_enabled: bool
    auto_terminate_enabled: bool
    terminate_wait_seconds: int
    thresholds: ThresholdsBody
    instance_id: str | None
    instance_type: str | None
    region: str | None
    az: str | None
    mode: str | None
    pool_id: str | None
    placement_since: str | None
    replica_count: int
    current_replica_id: str | None
    last_heartbeat_at: str | None
    seconds_since_heartbeat: int | None
    last_switch_at: str | None
    last_failover_at: str | None
    last_primary_change_at: str | None
    interruption_count: int
    created_at: str
    updated_at: str
    deleted_at: str | None


class AgentsResponse(msgspec.Struct, frozen=True, kw_only=True):
    agents: list[AdminAgent]
    total: int


class AdminInstance(msgspec.Struct, frozen=True, kw_only=True):
    """A.3 Instance + ``client_name`` (M8)."""

    instance_id: str
    client_id: str
    client_name: str
    agent_id: str
    logical_agent_id: str
    role: str
    kept_reason: str | None
    origin: str
    is_active: bool
    instance_type: str
    region: str
    az: str
    mode: str
    pool_id: str | None
    ami_id: str | None
    current_price: float | None
    baseline: float | None
    first_seen_at: str
    launched_at: str | None
    primary_since: str | None
    role_changed_at: str
    last_seen_at: str | None
    termination_expected_at: str | None
    termination_requested_at: str | None
    terminated_at: str | None
    termination_reason: str | None
    termination_confirmed: bool


class InstancesResponse(msgspec.Struct, frozen=True, kw_only=True):
    instances: list[AdminInstance]
    total: int


class SystemEventBody(msgspec.Struct, frozen=True, kw_only=True):
    """A.11 SystemEvent; ``metadata`` is a JSON object, never a JSON-encoded string."""

    id: str
    type: str
    severity: str
    client_id: str | None
    agent_id: str | None
    instance_id: str | None
    message: str
    metadata: dict[str, Any]
    created_at: str


class ActivityResponse(msgspec.Struct, frozen=True, kw_only=True):
    activity: list[SystemEventBody]
    total: int


class JobBody(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    schedule: str | None
    last_tick: str | None
    last_status: str | None
    last_duration_ms: int | None
    next_tick: str | None


class DecisionEngineBody(msgspec.Struct, frozen=True, kw_only=True):
    engine_kind: str
    policy_version: str
    risk_model_version: str | None
    price_model_version: str | None
    fallback_active: bool


class SystemHealthResponse(msgspec.Struct, frozen=True, kw_only=True):
    database: Literal["ok"]
    background_jobs: str
    stale_agents: int
    failed_replicas_24h: int
    recent_errors_1h: int
    open_episodes: int
    jobs: list[JobBody]
    decision_engine: DecisionEngineBody
    timestamp: str


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    id: str
    label: str
    client_id: str
    client_name: str
    agent_id: str | None
    matched_field: str
    status: str


class SearchResponse(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    results: list[SearchResult]
    total: int


def _dt(value: datetime) -> str:
    return utc_iso(value)


def agent_body(row: AgentSummary, now: datetime) -> AdminAgent:
    a, t = row.agent, row.agent.thresholds
    seen = a.last_heartbeat_at
    return AdminAgent(
        id=a.agent_id,
        client_id=a.client_id,
        client_name=row.client_name,
        logical_agent_id=a.logical_agent_id,
        hostname=a.hostname,
        agent_version=a.agent_version,
        private_ip=a.private_ip,
        public_ip=a.public_ip,
        status=row.status.value,
        lifecycle=a.lifecycle.value,
        liveness=a.liveness.value,
        reported_status=a.reported_status.value if a.reported_status else None,
        enabled=a.enabled,
        auto_switch_enabled=a.auto_switch_enabled,
        manual_replica_enabled=a.manual_replica_enabled,
        auto_terminate_enabled=a.auto_terminate_enabled,
        terminate_wait_seconds=a.terminate_wait_seconds,
        thresholds=ThresholdsBody(
            min_savings_percent=float(round(t.min_savings_percent, 2)),
            risk_threshold=float(round(t.risk_threshold, 4)),
            max_switches_per_day=t.max_switches_per_day,
            max_switches_per_week=t.max_switches_per_week,
            min_pool_duration_hours=t.min_pool_duration_hours,
            cooldown_minutes=t.cooldown_minutes,
        ),
        instance_id=a.primary_instance_id,
        instance_type=a.instance_type,
        region=a.region,
        az=a.az,
        mode=a.mode.value if a.mode else None,
        pool_id=a.pool_id,
        placement_since=dt(a.placement_since),
        replica_count=row.replica_count,
        current_replica_id=row.current_replica_id,
        last_heartbeat_at=dt(seen),
        seconds_since_heartbeat=max(0, int((now - seen).total_seconds())) if seen else None,
        last_switch_at=dt(a.last_switch_at),
        last_failover_at=dt(a.last_failover_at),
        last_primary_change_at=dt(a.last_primary_change_at),
        interruption_count=a.interruption_count,
        created_at=_dt(a.created_at),
        updated_at=_dt(a.updated_at),
        deleted_at=dt(a.deleted_at),
    )


def instance_body(row: InstanceListing) -> AdminInstance:
    i = row.instance
    return AdminInstance(
        instance_id=i.instance_id,
        client_id=i.client_id,
        client_name=row.client_name,
        agent_id=i.agent_id,
        logical_agent_id=row.logical_agent_id,
        role=i.role.value,
        kept_reason=i.kept_reason.value if i.kept_reason else None,
        origin=i.origin.value,
        is_active=not i.is_terminated,
        instance_type=i.instance_type,
        region=i.region,
        az=i.az,
        mode=i.mode.value,
        pool_id=i.pool_id,
        ami_id=i.ami_id,
        current_price=num(row.current_price),
        baseline=num(row.baseline),
        first_seen_at=_dt(i.first_seen_at),
        launched_at=dt(i.launched_at),
        primary_since=dt(i.primary_since),
        role_changed_at=_dt(i.role_changed_at),
        last_seen_at=dt(i.last_seen_at),
        termination_expected_at=dt(i.termination_expected_at),
        termination_requested_at=dt(i.termination_requested_at),
        terminated_at=dt(i.terminated_at),
        termination_reason=i.termination_reason.value if i.termination_reason else None,
        termination_confirmed=i.termination_confirmed,
    )


def event_body(event: SystemEvent) -> SystemEventBody:
    return SystemEventBody(
        id=event.event_id,
        type=event.type,
        severity=event.severity.value,
        client_id=event.client_id,
        agent_id=event.agent_id,
        instance_id=event.instance_id,
        message=event.message,
        metadata=dict(event.metadata),
        created_at=_dt(event.created_at),
    )


def search_result(hit: SearchHit) -> SearchResult:
    return SearchResult(
        type=hit.type.value,
        id=hit.id,
        label=hit.label,
        client_id=hit.client_id,
        client_name=hit.client_name,
        agent_id=hit.agent_id,
        matched_field=hit.matched_field,
        status=hit.status,
    )
