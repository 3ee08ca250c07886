"""AgentCommand, Switch (``InstanceFacts`` and ``SwitchTiming`` flattened) and CleanupRecord ↔ their rows."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper, json_copy
from spotopt.adapters.persistence.models.commands import CleanupRecordModel, CommandModel, SwitchModel
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import CleanupRecord, InstanceFacts, Switch, SwitchTiming
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, EpisodeId, InstanceId, SwitchId
from spotopt.domain.shared.pools import Mode


def _command_id(value: str | None) -> CommandId | None:
    return None if value is None else CommandId(value)


class CommandMapper(Mapper[AgentCommand, CommandModel]):
    model = CommandModel

    def identity(self, entity: AgentCommand) -> tuple[Any, ...]:
        return (entity.command_id,)

    def to_domain(self, model: CommandModel) -> AgentCommand:
        m = model
        return AgentCommand(
            command_id=CommandId(m.command_id),
            client_id=ClientId(m.client_id),
            agent_id=AgentId(m.agent_id),
            type=CommandType(m.type),
            target_mode=Mode(m.target_mode),
            target_pool_id=m.target_pool_id,
            terminate_wait_seconds=m.terminate_wait_seconds,
            priority=m.priority,
            origin=CommandOrigin(m.origin),
            target_instance_id=None if m.target_instance_id is None else InstanceId(m.target_instance_id),
            created_at=m.created_at,
            expires_at=m.expires_at,
            status=CommandStatus(m.status),
            motive=m.motive,
            reason=m.reason,
            decision_id=m.decision_id,
            episode_id=None if m.episode_id is None else EpisodeId(m.episode_id),
            idempotency_key=m.idempotency_key,
            delivered_at=m.delivered_at,
            lease_expires_at=m.lease_expires_at,
            delivery_count=m.delivery_count,
            lease_pinned=m.lease_pinned,
            pinned_at=m.pinned_at,
            acked_at=m.acked_at,
            success=m.success,
            message=m.message,
            result=json_copy(m.result),
            completed_at=m.completed_at,
            superseded_by=_command_id(m.superseded_by),
            superseded_command_id=_command_id(m.superseded_command_id),
            cancel_reason=m.cancel_reason,
            cancelled_at=m.cancelled_at,
        )

    def to_model(self, entity: AgentCommand, model: CommandModel | None = None) -> CommandModel:
        c, m = entity, model if model is not None else CommandModel()
        m.command_id = c.command_id
        m.client_id = c.client_id
        m.agent_id = c.agent_id
        m.type = c.type.value
        m.target_mode = c.target_mode.value
        m.target_pool_id = c.target_pool_id
        m.terminate_wait_seconds = c.terminate_wait_seconds
        m.priority = c.priority
        m.origin = c.origin.value
        m.target_instance_id = c.target_instance_id
        m.created_at = c.created_at
        m.expires_at = c.expires_at
        m.status = c.status.value
        m.motive = c.motive
        m.reason = c.reason
        m.decision_id = c.decision_id
        m.episode_id = c.episode_id
        m.idempotency_key = c.idempotency_key
        m.delivered_at = c.delivered_at
        m.lease_expires_at = c.lease_expires_at
        m.delivery_count = c.delivery_count
        m.lease_pinned = c.lease_pinned
        m.pinned_at = c.pinned_at
        m.acked_at = c.acked_at
        m.success = c.success
        m.message = c.message
        m.result = json_copy(c.result)
        m.completed_at = c.completed_at
        m.superseded_by = c.superseded_by
        m.superseded_command_id = c.superseded_command_id
        m.cancel_reason = c.cancel_reason
        m.cancelled_at = c.cancelled_at
        return m


class SwitchMapper(Mapper[Switch, SwitchModel]):
    model = SwitchModel

    def identity(self, entity: Switch) -> tuple[Any, ...]:
        return (entity.switch_id,)

    def to_domain(self, model: SwitchModel) -> Switch:
        m = model
        return Switch(
            switch_id=SwitchId(m.switch_id),
            client_id=ClientId(m.client_id),
            agent_id=AgentId(m.agent_id),
            logical_agent_id=m.logical_agent_id,
            origin=m.origin,
            old=InstanceFacts(
                instance_id=InstanceId(m.old_instance_id),
                instance_type=m.old_instance_type,
                region=m.old_region,
                az=m.old_az,
                mode=m.old_mode,
                pool_id=m.old_pool_id,
                ami_id=m.old_ami_id,
            ),
            new=InstanceFacts(
                instance_id=InstanceId(m.new_instance_id),
                instance_type=m.new_instance_type,
                region=m.new_region,
                az=m.new_az,
                mode=m.new_mode,
                pool_id=m.new_pool_id,
                ami_id=m.new_ami_id,
            ),
            timing=SwitchTiming(
                initiated_at=m.timing_initiated_at,
                launched_at=m.timing_launched_at,
                ready_at=m.timing_ready_at,
                traffic_switched_at=m.timing_traffic_switched_at,
                old_terminated_at=m.timing_old_terminated_at,
                ami_created_at=m.timing_ami_created_at,
            ),
            applied=m.applied,
            received_at=m.received_at,
            command_id=_command_id(m.command_id),
            trigger=m.trigger,
            reported_prices=json_copy(m.reported_prices),
            old_price=m.old_price,
            new_price=m.new_price,
            baseline=m.baseline,
        )

    def to_model(self, entity: Switch, model: SwitchModel | None = None) -> SwitchModel:
        s, m = entity, model if model is not None else SwitchModel()
        m.switch_id = s.switch_id
        m.client_id = s.client_id
        m.agent_id = s.agent_id
        m.logical_agent_id = s.logical_agent_id
        m.origin = s.origin
        m.old_instance_id = s.old.instance_id
        m.old_instance_type = s.old.instance_type
        m.old_region = s.old.region
        m.old_az = s.old.az
        m.old_mode = s.old.mode
        m.old_pool_id = s.old.pool_id
        m.old_ami_id = s.old.ami_id
        m.new_instance_id = s.new.instance_id
        m.new_instance_type = s.new.instance_type
        m.new_region = s.new.region
        m.new_az = s.new.az
        m.new_mode = s.new.mode
        m.new_pool_id = s.new.pool_id
        m.new_ami_id = s.new.ami_id
        m.timing_initiated_at = s.timing.initiated_at
        m.timing_launched_at = s.timing.launched_at
        m.timing_ready_at = s.timing.ready_at
        m.timing_traffic_switched_at = s.timing.traffic_switched_at
        m.timing_old_terminated_at = s.timing.old_terminated_at
        m.timing_ami_created_at = s.timing.ami_created_at
        m.applied = s.applied
        m.received_at = s.received_at
        m.command_id = s.command_id
        m.trigger = s.trigger
        m.reported_prices = json_copy(s.reported_prices)
        m.old_price = s.old_price
        m.new_price = s.new_price
        m.baseline = s.baseline
        return m


class CleanupRecordMapper(Mapper[CleanupRecord, CleanupRecordModel]):
    model = CleanupRecordModel

    def identity(self, entity: CleanupRecord) -> tuple[Any, ...]:
        return (entity.record_id,)

    def to_domain(self, model: CleanupRecordModel) -> CleanupRecord:
        m = model
        return CleanupRecord(
            record_id=m.record_id,
            client_id=ClientId(m.client_id),
            agent_id=AgentId(m.agent_id),
            received_at=m.received_at,
            reported_at=m.reported_at,
            deleted_snapshots=m.deleted_snapshots,
            deleted_amis=m.deleted_amis,
            failed_count=m.failed_count,
            body=json_copy(m.body),
            old_instance_id=None if m.old_instance_id is None else InstanceId(m.old_instance_id),
            old_instance_result=m.old_instance_result,
        )

    def to_model(self, entity: CleanupRecord, model: CleanupRecordModel | None = None) -> CleanupRecordModel:
        r, m = entity, model if model is not None else CleanupRecordModel()
        m.record_id = r.record_id
        m.client_id = r.client_id
        m.agent_id = r.agent_id
        m.received_at = r.received_at
        m.reported_at = r.reported_at
        m.deleted_snapshots = r.deleted_snapshots
        m.deleted_amis = r.deleted_amis
        m.failed_count = r.failed_count
        m.body = json_copy(r.body)
        m.old_instance_id = r.old_instance_id
        m.old_instance_result = r.old_instance_result
        return m


COMMANDS = CommandMapper()
SWITCHES = SwitchMapper()
CLEANUPS = CleanupRecordMapper()
