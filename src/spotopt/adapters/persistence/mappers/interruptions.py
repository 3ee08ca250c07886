"""InterruptionEpisode and InterruptionSignal ↔ their rows."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper
from spotopt.adapters.persistence.models.interruptions import EpisodeModel, SignalModel
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.interruptions.values import OPEN_EPISODE, AttributedRole, EpisodeState, SignalKind
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, EpisodeId, InstanceId, ReplicaId


def _replica(value: str | None) -> ReplicaId | None:
    return None if value is None else ReplicaId(value)


class EpisodeMapper(Mapper[InterruptionEpisode, EpisodeModel]):
    model = EpisodeModel

    def identity(self, entity: InterruptionEpisode) -> tuple[Any, ...]:
        return (entity.episode_id,)

    def to_domain(self, model: EpisodeModel) -> InterruptionEpisode:
        m = model
        return InterruptionEpisode(
            episode_id=EpisodeId(m.episode_id),
            client_id=ClientId(m.client_id),
            agent_id=AgentId(m.agent_id),
            instance_id=InstanceId(m.instance_id),
            state=EpisodeState(m.state),
            opened_at=m.opened_at,
            pool_id=m.pool_id,
            first_rebalance_at=m.first_rebalance_at,
            last_rebalance_at=m.last_rebalance_at,
            notice_at=m.notice_at,
            deadline=m.deadline,
            deadline_estimated=m.deadline_estimated,
            replica_id=_replica(m.replica_id),
            replacements=m.replacements,
            fallback_command_id=None if m.fallback_command_id is None else CommandId(m.fallback_command_id),
            promoted_replica_id=_replica(m.promoted_replica_id),
            new_instance_id=None if m.new_instance_id is None else InstanceId(m.new_instance_id),
            old_primary_terminated=m.old_primary_terminated,
            degraded=m.degraded,
            late=m.late,
            response_ms=m.response_ms,
            failover_ms=m.failover_ms,
            closed_at=m.closed_at,
            close_reason=m.close_reason,
        )

    def to_model(self, entity: InterruptionEpisode, model: EpisodeModel | None = None) -> EpisodeModel:
        e, m = entity, model if model is not None else EpisodeModel()
        m.episode_id = e.episode_id
        m.client_id = e.client_id
        m.agent_id = e.agent_id
        m.instance_id = e.instance_id
        m.state = e.state.value
        m.opened_at = e.opened_at
        m.pool_id = e.pool_id
        m.first_rebalance_at = e.first_rebalance_at
        m.last_rebalance_at = e.last_rebalance_at
        m.notice_at = e.notice_at
        m.deadline = e.deadline
        m.deadline_estimated = e.deadline_estimated
        m.replica_id = e.replica_id
        m.replacements = e.replacements
        m.fallback_command_id = e.fallback_command_id
        m.promoted_replica_id = e.promoted_replica_id
        m.new_instance_id = e.new_instance_id
        m.old_primary_terminated = e.old_primary_terminated
        m.degraded = e.degraded
        m.late = e.late
        m.response_ms = e.response_ms
        m.failover_ms = e.failover_ms
        m.closed_at = e.closed_at
        m.close_reason = e.close_reason
        # EP-1: at most one open episode per (agent, instance).
        m.open_key = e.instance_id if e.state in OPEN_EPISODE else None
        return m


class SignalMapper(Mapper[InterruptionSignal, SignalModel]):
    model = SignalModel

    def identity(self, entity: InterruptionSignal) -> tuple[Any, ...]:
        return (entity.signal_id,)

    def to_domain(self, model: SignalModel) -> InterruptionSignal:
        m = model
        return InterruptionSignal(
            signal_id=m.signal_id,
            client_id=ClientId(m.client_id),
            agent_id=AgentId(m.agent_id),
            kind=SignalKind(m.kind),
            received_at=m.received_at,
            attributed_role=AttributedRole(m.attributed_role),
            instance_id=None if m.instance_id is None else InstanceId(m.instance_id),
            pool_id=m.pool_id,
            detected_at=m.detected_at,
            termination_time=m.termination_time,
            episode_id=None if m.episode_id is None else EpisodeId(m.episode_id),
        )

    def to_model(self, entity: InterruptionSignal, model: SignalModel | None = None) -> SignalModel:
        s, m = entity, model if model is not None else SignalModel()
        m.signal_id = s.signal_id
        m.client_id = s.client_id
        m.agent_id = s.agent_id
        m.kind = s.kind.value
        m.received_at = s.received_at
        m.attributed_role = s.attributed_role.value
        m.instance_id = s.instance_id
        m.pool_id = s.pool_id
        m.detected_at = s.detected_at
        m.termination_time = s.termination_time
        m.episode_id = s.episode_id
        return m


EPISODES = EpisodeMapper()
SIGNALS = SignalMapper()
