"""Replica ↔ ``replicas`` row."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper, json_copy
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaKind, ReplicaStatus, SyncStatus
from spotopt.domain.shared.ids import AgentId, ClientId, EpisodeId, InstanceId, ReplicaId


def _instance(value: str | None) -> InstanceId | None:
    return None if value is None else InstanceId(value)


class ReplicaMapper(Mapper[Replica, ReplicaModel]):
    model = ReplicaModel

    def identity(self, entity: Replica) -> tuple[Any, ...]:
        return (entity.replica_id,)

    def to_domain(self, model: ReplicaModel) -> Replica:
        m = model
        return Replica(
            replica_id=ReplicaId(m.replica_id),
            client_id=ClientId(m.client_id),
            agent_id=AgentId(m.agent_id),
            kind=ReplicaKind(m.kind),
            status=ReplicaStatus(m.status),
            pool_id=m.pool_id,
            instance_type=m.instance_type,
            region=m.region,
            az=m.az,
            created_by=m.created_by,
            created_at=m.created_at,
            sync_status=SyncStatus(m.sync_status),
            state_transfer_progress=m.state_transfer_progress,
            sync_latency_ms=m.sync_latency_ms,
            last_sync_at=m.last_sync_at,
            instance_id=_instance(m.instance_id),
            parent_instance_id=_instance(m.parent_instance_id),
            episode_id=None if m.episode_id is None else EpisodeId(m.episode_id),
            hourly_price_at_creation=m.hourly_price_at_creation,
            launch_claims=m.launch_claims,
            launch_lease_expires_at=m.launch_lease_expires_at,
            degraded_promotion=m.degraded_promotion,
            termination_reason=m.termination_reason,
            failure_reason=m.failure_reason,
            tags=json_copy(m.tags),
            launched_at=m.launched_at,
            sync_started_at=m.sync_started_at,
            ready_at=m.ready_at,
            promoted_at=m.promoted_at,
            terminated_at=m.terminated_at,
            termination_confirmed_at=m.termination_confirmed_at,
            failed_at=m.failed_at,
            version=m.version,
        )

    def to_model(self, entity: Replica, model: ReplicaModel | None = None) -> ReplicaModel:
        r, m = entity, model if model is not None else ReplicaModel()
        m.replica_id = r.replica_id
        m.client_id = r.client_id
        m.agent_id = r.agent_id
        m.kind = r.kind.value
        m.status = r.status.value
        m.pool_id = r.pool_id
        m.instance_type = r.instance_type
        m.region = r.region
        m.az = r.az
        m.created_by = r.created_by
        m.created_at = r.created_at
        m.sync_status = r.sync_status.value
        m.state_transfer_progress = r.state_transfer_progress
        m.sync_latency_ms = r.sync_latency_ms
        m.last_sync_at = r.last_sync_at
        m.instance_id = r.instance_id
        m.parent_instance_id = r.parent_instance_id
        m.episode_id = r.episode_id
        m.hourly_price_at_creation = r.hourly_price_at_creation
        m.launch_claims = r.launch_claims
        m.launch_lease_expires_at = r.launch_lease_expires_at
        m.degraded_promotion = r.degraded_promotion
        m.termination_reason = r.termination_reason
        m.failure_reason = r.failure_reason
        m.tags = json_copy(r.tags)
        m.launched_at = r.launched_at
        m.sync_started_at = r.sync_started_at
        m.ready_at = r.ready_at
        m.promoted_at = r.promoted_at
        m.terminated_at = r.terminated_at
        m.termination_confirmed_at = r.termination_confirmed_at
        m.failed_at = r.failed_at
        m.version = r.version
        # RP-6: at most one live replica per episode.
        m.live_episode_key = r.episode_id if r.status in NON_TERMINAL_REPLICA else None
        return m


REPLICAS = ReplicaMapper()
