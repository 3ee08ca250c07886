"""Agent aggregate (domain §2.2, §3.1): the logical identity of one workload slot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from spotopt.domain.agents.values import Lifecycle, Liveness, ReportedStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.pools import Mode

HEARTBEAT_TIMEOUT_SECONDS = 120


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision thresholds; AG-7 ranges are checked here and never clamped."""

    min_savings_percent: Decimal = Decimal("15.00")
    risk_threshold: Decimal = Decimal("0.30")
    max_switches_per_day: int = 3
    max_switches_per_week: int = 10
    min_pool_duration_hours: int = 2
    cooldown_minutes: int = 30

    def __post_init__(self) -> None:
        checks: list[tuple[str, Decimal | int, Decimal | int, Decimal | int]] = [
            ("min_savings_percent", self.min_savings_percent, 0, 100),
            ("risk_threshold", self.risk_threshold, 0, 1),
            ("max_switches_per_day", self.max_switches_per_day, 0, 48),
            ("max_switches_per_week", self.max_switches_per_week, 0, 336),
            ("min_pool_duration_hours", self.min_pool_duration_hours, 0, 168),
            ("cooldown_minutes", self.cooldown_minutes, 0, 1440),
        ]
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise InvalidValueError(name, f"must be between {low} and {high}")
        if self.max_switches_per_week < self.max_switches_per_day:
            raise InvalidValueError("max_switches_per_week", "must be >= max_switches_per_day")


@dataclass(eq=False, slots=True)
class Agent:
    agent_id: AgentId
    client_id: ClientId
    logical_agent_id: str
    created_at: datetime
    updated_at: datetime
    hostname: str | None = None
    agent_version: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    deleted_at: datetime | None = None
    liveness: Liveness = Liveness.ONLINE
    liveness_changed_at: datetime | None = None
    offline_notified: bool = False
    last_heartbeat_at: datetime | None = None
    reported_status: ReportedStatus | None = None
    enabled: bool = True
    auto_switch_enabled: bool = True
    manual_replica_enabled: bool = False
    auto_terminate_enabled: bool = True
    terminate_wait_seconds: int = 300
    thresholds: Thresholds = field(default_factory=Thresholds)
    primary_instance_id: InstanceId | None = None
    instance_type: str | None = None
    region: str | None = None
    az: str | None = None
    mode: Mode | None = None
    pool_id: str | None = None
    placement_since: datetime | None = None
    last_switch_at: datetime | None = None
    last_failover_at: datetime | None = None
    last_primary_change_at: datetime | None = None
    interruption_count: int = 0
    logical_id_warned: bool = False
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Agent) and other.agent_id == self.agent_id

    def __hash__(self) -> int:
        return hash(self.agent_id)

    @property
    def is_deleted(self) -> bool:
        return self.lifecycle is Lifecycle.DELETED

    @property
    def effective_terminate_wait(self) -> int:
        """CM-5: commands carry the wait only when auto-terminate is on."""
        return self.terminate_wait_seconds if self.auto_terminate_enabled else 0

    def heartbeat_is_fresh(self, now: datetime, timeout_seconds: int = HEARTBEAT_TIMEOUT_SECONDS) -> bool:
        return self.last_heartbeat_at is not None and (now - self.last_heartbeat_at).total_seconds() <= timeout_seconds

    def set_placement(
        self,
        *,
        instance_id: InstanceId | None,
        instance_type: str | None,
        region: str | None,
        az: str | None,
        mode: Mode | None,
        pool_id: str | None,
        since: datetime | None,
    ) -> None:
        """AG-4: the snapshot mirrors the primary's facts (kept when the primary is gone)."""
        self.primary_instance_id = instance_id
        self.instance_type = instance_type
        self.region = region
        self.az = az
        self.mode = mode
        self.pool_id = pool_id
        self.placement_since = since

    def mark_online(self, now: datetime) -> bool:
        """Liveness → online; returns True when it came back from offline (domain A2/A5)."""
        came_back = self.liveness is Liveness.OFFLINE
        if came_back:
            self.liveness = Liveness.ONLINE
            self.liveness_changed_at = now
        return came_back

    def mark_offline(self, now: datetime) -> bool:
        """Liveness → offline; returns True when it was online (A6/A7/A8)."""
        was_online = self.liveness is Liveness.ONLINE
        if was_online:
            self.liveness = Liveness.OFFLINE
            self.liveness_changed_at = now
        return was_online

    def touch(self, now: datetime) -> None:
        """CC-3: every placement-changing transaction bumps the version."""
        self.version += 1
        self.updated_at = now

    def delete(self, now: datetime) -> None:
        """A9 (agent-side effects only; the use case handles dependents)."""
        self.lifecycle = Lifecycle.DELETED
        self.deleted_at = now
        self.updated_at = now
