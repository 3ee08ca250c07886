"""Agent, Instance and UnattachedSighting ↔ their rows (``Thresholds`` flattened into the agent's columns)."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper, value_or_none
from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel, SightingModel
from spotopt.domain.agents.agent import Agent, Thresholds
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import (
    ExpectedCause,
    InstanceOrigin,
    InstanceRole,
    KeptReason,
    Lifecycle,
    Liveness,
    ReportedStatus,
    TerminationReason,
)
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.pools import Mode


class AgentMapper(Mapper[Agent, AgentModel]):
    model = AgentModel

    def identity(self, entity: Agent) -> tuple[Any, ...]:
        return (entity.agent_id,)

    def to_domain(self, model: AgentModel) -> Agent:
        m = model
        return Agent(
            agent_id=AgentId(m.agent_id),
            client_id=ClientId(m.client_id),
            logical_agent_id=m.logical_agent_id,
            created_at=m.created_at,
            updated_at=m.updated_at,
            hostname=m.hostname,
            agent_version=m.agent_version,
            private_ip=m.private_ip,
            public_ip=m.public_ip,
            lifecycle=Lifecycle(m.lifecycle),
            deleted_at=m.deleted_at,
            liveness=Liveness(m.liveness),
            liveness_changed_at=m.liveness_changed_at,
            offline_notified=m.offline_notified,
            last_heartbeat_at=m.last_heartbeat_at,
            reported_status=None if m.reported_status is None else ReportedStatus(m.reported_status),
            enabled=m.enabled,
            auto_switch_enabled=m.auto_switch_enabled,
            manual_replica_enabled=m.manual_replica_enabled,
            auto_terminate_enabled=m.auto_terminate_enabled,
            terminate_wait_seconds=m.terminate_wait_seconds,
            thresholds=Thresholds(
                min_savings_percent=m.min_savings_percent,
                risk_threshold=m.risk_threshold,
                max_switches_per_day=m.max_switches_per_day,
                max_switches_per_week=m.max_switches_per_week,
                min_pool_duration_hours=m.min_pool_duration_hours,
                cooldown_minutes=m.cooldown_minutes,
            ),
            primary_instance_id=None if m.primary_instance_id is None else InstanceId(m.primary_instance_id),
            instance_type=m.instance_type,
            region=m.region,
            az=m.az,
            mode=None if m.mode is None else Mode(m.mode),
            pool_id=m.pool_id,
            placement_since=m.placement_since,
            last_switch_at=m.last_switch_at,
            last_failover_at=m.last_failover_at,
            last_primary_change_at=m.last_primary_change_at,
            interruption_count=m.interruption_count,
            logical_id_warned=m.logical_id_warned,
            version=m.version,
        )

    def to_model(self, entity: Agent, model: AgentModel | None = None) -> AgentModel:
        a, m = entity, model if model is not None else AgentModel()
        m.agent_id = a.agent_id
        m.client_id = a.client_id
        m.logical_agent_id = a.logical_agent_id
        m.created_at = a.created_at
        m.updated_at = a.updated_at
        m.hostname = a.hostname
        m.agent_version = a.agent_version
        m.private_ip = a.private_ip
        m.public_ip = a.public_ip
        m.lifecycle = a.lifecycle.value
        m.deleted_at = a.deleted_at
        m.liveness = a.liveness.value
        m.liveness_changed_at = a.liveness_changed_at
        m.offline_notified = a.offline_notified
        m.last_heartbeat_at = a.last_heartbeat_at
        m.reported_status = value_or_none(a.reported_status)
        m.enabled = a.enabled
        m.auto_switch_enabled = a.auto_switch_enabled
        m.manual_replica_enabled = a.manual_replica_enabled
        m.auto_terminate_enabled = a.auto_terminate_enabled
        m.terminate_wait_seconds = a.terminate_wait_seconds
        m.min_savings_percent = a.thresholds.min_savings_percent
        m.risk_threshold = a.thresholds.risk_threshold
        m.max_switches_per_day = a.thresholds.max_switches_per_day
        m.max_switches_per_week = a.thresholds.max_switches_per_week
        m.min_pool_duration_hours = a.thresholds.min_pool_duration_hours
        m.cooldown_minutes = a.thresholds.cooldown_minutes
        m.primary_instance_id = a.primary_instance_id
        m.instance_type = a.instance_type
        m.region = a.region
        m.az = a.az
        m.mode = value_or_none(a.mode)
        m.pool_id = a.pool_id
        m.placement_since = a.placement_since
        m.last_switch_at = a.last_switch_at
        m.last_failover_at = a.last_failover_at
        m.last_primary_change_at = a.last_primary_change_at
        m.interruption_count = a.interruption_count
        m.logical_id_warned = a.logical_id_warned
        m.version = a.version
        # AG-1: the logical id is unique among active agents only.
        m.active_logical_key = a.logical_agent_id if a.lifecycle is Lifecycle.ACTIVE else None
        return m


class InstanceMapper(Mapper[Instance, InstanceModel]):
    model = InstanceModel

    def identity(self, entity: Instance) -> tuple[Any, ...]:
        return (entity.client_id, entity.instance_id)

    def to_domain(self, model: InstanceModel) -> Instance:
        m = model
        return Instance(
            client_id=ClientId(m.client_id),
            instance_id=InstanceId(m.instance_id),
            agent_id=AgentId(m.agent_id),
            role=InstanceRole(m.role),
            origin=InstanceOrigin(m.origin),
            instance_type=m.instance_type,
            region=m.region,
            az=m.az,
            mode=Mode(m.mode),
            first_seen_at=m.first_seen_at,
            role_changed_at=m.role_changed_at,
            ami_id=m.ami_id,
            private_ip=m.private_ip,
            public_ip=m.public_ip,
            kept_reason=None if m.kept_reason is None else KeptReason(m.kept_reason),
            launched_at=m.launched_at,
            primary_since=m.primary_since,
            last_seen_at=m.last_seen_at,
            termination_expected_at=m.termination_expected_at,
            expected_cause=None if m.expected_cause is None else ExpectedCause(m.expected_cause),
            termination_requested_at=m.termination_requested_at,
            terminated_at=m.terminated_at,
            termination_reason=None if m.termination_reason is None else TerminationReason(m.termination_reason),
            termination_confirmed=m.termination_confirmed,
            kept_notified_at=m.kept_notified_at,
        )

    def to_model(self, entity: Instance, model: InstanceModel | None = None) -> InstanceModel:
        i, m = entity, model if model is not None else InstanceModel()
        m.client_id = i.client_id
        m.instance_id = i.instance_id
        m.agent_id = i.agent_id
        m.role = i.role.value
        m.origin = i.origin.value
        m.instance_type = i.instance_type
        m.region = i.region
        m.az = i.az
        m.mode = i.mode.value
        m.first_seen_at = i.first_seen_at
        m.role_changed_at = i.role_changed_at
        m.ami_id = i.ami_id
        m.private_ip = i.private_ip
        m.public_ip = i.public_ip
        m.kept_reason = value_or_none(i.kept_reason)
        m.launched_at = i.launched_at
        m.primary_since = i.primary_since
        m.last_seen_at = i.last_seen_at
        m.termination_expected_at = i.termination_expected_at
        m.expected_cause = value_or_none(i.expected_cause)
        m.termination_requested_at = i.termination_requested_at
        m.terminated_at = i.terminated_at
        m.termination_reason = value_or_none(i.termination_reason)
        m.termination_confirmed = i.termination_confirmed
        m.kept_notified_at = i.kept_notified_at
        return m


class SightingMapper(Mapper[UnattachedSighting, SightingModel]):
    model = SightingModel

    def identity(self, entity: UnattachedSighting) -> tuple[Any, ...]:
        return (entity.client_id, entity.instance_id)

    def to_domain(self, model: SightingModel) -> UnattachedSighting:
        m = model
        return UnattachedSighting(
            client_id=ClientId(m.client_id),
            instance_id=InstanceId(m.instance_id),
            agent_id=AgentId(m.agent_id),
            first_seen_at=m.first_seen_at,
            last_seen_at=m.last_seen_at,
            instance_type=m.instance_type,
            region=m.region,
            az=m.az,
            mode=m.mode,
            ami_id=m.ami_id,
            private_ip=m.private_ip,
            public_ip=m.public_ip,
            warned_on=m.warned_on,
        )

    def to_model(self, entity: UnattachedSighting, model: SightingModel | None = None) -> SightingModel:
        s, m = entity, model if model is not None else SightingModel()
        m.client_id = s.client_id
        m.instance_id = s.instance_id
        m.agent_id = s.agent_id
        m.first_seen_at = s.first_seen_at
        m.last_seen_at = s.last_seen_at
        m.instance_type = s.instance_type
        m.region = s.region
        m.az = s.az
        m.mode = s.mode
        m.ami_id = s.ami_id
        m.private_ip = s.private_ip
        m.public_ip = s.public_ip
        m.warned_on = s.warned_on
        return m


AGENTS = AgentMapper()
INSTANCES = InstanceMapper()
SIGHTINGS = SightingMapper()
