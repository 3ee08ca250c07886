"""Replica aggregate (domain §2.4, §3.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaKind, ReplicaStatus, SyncStatus
from spotopt.domain.shared.ids import AgentId, ClientId, EpisodeId, InstanceId, ReplicaId

LAUNCH_LEASE_SECONDS = 180
MAX_LAUNCH_CLAIMS = 3


@dataclass(eq=False, slots=True)
class Replica:
    replica_id: ReplicaId
    client_id: ClientId
    agent_id: AgentId
    kind: ReplicaKind
    status: ReplicaStatus
    pool_id: str
    instance_type: str
    region: str
    az: str
    created_by: str
    created_at: datetime
    sync_status: SyncStatus = SyncStatus.INITIALIZING
    state_transfer_progress: Decimal = Decimal(0)
    sync_latency_ms: int | None = None
    last_sync_at: datetime | None = None
    instance_id: InstanceId | None = None
    parent_instance_id: InstanceId | None = None
    episode_id: EpisodeId | None = None
    hourly_price_at_creation: Decimal | None = None
    launch_claims: int = 0
    launch_lease_expires_at: datetime | None = None
    degraded_promotion: bool = False
    termination_reason: str | None = None
    failure_reason: str | None = None
    tags: dict[str, object] = field(default_factory=dict)
    launched_at: datetime | None = None
    sync_started_at: datetime | None = None
    ready_at: datetime | None = None
    promoted_at: datetime | None = None
    terminated_at: datetime | None = None
    termination_confirmed_at: datetime | None = None
    failed_at: datetime | None = None
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Replica) and other.replica_id == self.replica_id

    def __hash__(self) -> int:
        return hash(self.replica_id)

    @property
    def is_active(self) -> bool:
        return self.status in NON_TERMINAL_REPLICA

    @property
    def is_launch_request(self) -> bool:
        return self.status is ReplicaStatus.LAUNCHING and self.instance_id is None
