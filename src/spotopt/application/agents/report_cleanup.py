"""A9: the agent's AMI/snapshot cleanup result, or confirmation that an old instance is gone (T-2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from spotopt.application.agents.placement import Placement
from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole, TerminationReason
from spotopt.domain.commands.switch import CleanupRecord
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId, InstanceId, new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportCleanupCommand:
    client_id: ClientId
    agent_id: str
    reported_at: datetime | None = None
    deleted_snapshots: int = 0
    deleted_amis: int = 0
    failed_count: int = 0
    body: dict[str, object] = field(default_factory=dict)
    old_instance_id: str | None = None
    old_instance_success: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportCleanupResult:
    deleted_snapshots: int
    deleted_amis: int
    failed_count: int
    old_instance_result: str | None


class ReportCleanup:
    """- The cleanup figures are stored as a cleanup record, keyed by (agent, ``timestamp``) (idempotent).
    - T-2: an ``old_instance_id`` naming a kept-old instance (success true) → ``terminated(reported)``, confirmed;
      naming the primary, a standby or an unknown instance → ``ignored`` with event ``cleanup_report_ignored``.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, placement: Placement) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement

    async def execute(self, command: ReportCleanupCommand) -> ReportCleanupResult:
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        now = self._clock.now()
        events: list[DomainEvent] = []
        result: str | None = None
        if command.old_instance_id is not None:
            result = await self._old_instance(agent, command, now, events)
        recorded = (
            await self._uow.cleanups.find_by_reported_at(agent.agent_id, command.reported_at)
            if command.reported_at is not None
            else None
        )
        if recorded is None:
            await self._uow.cleanups.add(
                CleanupRecord(
                    record_id=new_id(),
                    client_id=agent.client_id,
                    agent_id=agent.agent_id,
                    received_at=now,
                    reported_at=command.reported_at,
                    deleted_snapshots=command.deleted_snapshots,
                    deleted_amis=command.deleted_amis,
                    failed_count=command.failed_count,
                    body=command.body,
                    old_instance_id=InstanceId(command.old_instance_id) if command.old_instance_id else None,
                    old_instance_result=result,
                )
            )
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return ReportCleanupResult(
            deleted_snapshots=command.deleted_snapshots,
            deleted_amis=command.deleted_amis,
            failed_count=command.failed_count,
            old_instance_result=result,
        )

    async def _old_instance(
        self, agent: Agent, command: ReportCleanupCommand, now: datetime, events: list[DomainEvent]
    ) -> str:
        instance = await self._uow.instances.get(agent.client_id, command.old_instance_id or "")
        own = instance is not None and instance.agent_id == agent.agent_id
        if own and instance is not None and instance.role is InstanceRole.KEPT_OLD and command.old_instance_success:
            await self._placement.terminate(instance, TerminationReason.REPORTED, now, now, confirmed=True)
            return "terminated"
        if own and instance is not None and instance.role is InstanceRole.TERMINATED:
            return "terminated"
        message = f"Cleanup report for {command.old_instance_id} ignored"
        events.append(
            notices.plain(
                agent, "cleanup_report_ignored", Severity.WARNING, message, instance_id=command.old_instance_id
            )
        )
        return "ignored"
