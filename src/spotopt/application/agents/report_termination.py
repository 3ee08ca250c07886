"""A8: the agent reports an instance terminated (T-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.agents.placement import Placement
from spotopt.application.errors import ConflictError, NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole, TerminationReason
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.status_reports import apply_status_report
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportTerminationCommand:
    client_id: ClientId
    agent_id: str
    instance_id: str | None = None
    reason: str = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportTerminationResult:
    instance_id: str
    role: str


class ReportTermination:
    """- T-1: the instance becomes ``terminated(reported)``, confirmed; its ledger entry closes (IN-8).
    - The primary: pointer cleared, liveness offline (domain A8), an ``at_risk`` episode escalates to
      ``terminating`` with deadline now (V14), pending switch commands cancelled.
    - A standby: its replica is terminated (L12). Already terminated → no change.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, placement: Placement) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement

    async def execute(self, command: ReportTerminationCommand) -> ReportTerminationResult:
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        target_id = command.instance_id or agent.primary_instance_id
        if target_id is None:
            raise ConflictError("The agent has no primary instance", code="no_primary")
        instance = await self._uow.instances.get(agent.client_id, target_id)
        if instance is None or instance.agent_id != agent.agent_id:
            raise NotFoundError("Instance not found")
        now = self._clock.now()
        events: list[DomainEvent] = []
        if not instance.is_terminated:
            was = instance.role
            await self._placement.terminate(instance, TerminationReason.REPORTED, now, now, confirmed=True)
            if was is InstanceRole.PRIMARY:
                events += await self._primary_gone(agent, target_id, now)
            elif was is InstanceRole.STANDBY:
                replica = await self._uow.replicas.find_by_instance(agent.agent_id, target_id)
                if replica is not None and replica.is_active:
                    apply_status_report(replica, ReplicaStatus.TERMINATED, now=now)
            message = f"Instance {target_id} reported terminated ({command.reason})"
            events.append(notices.plain(agent, "instance_terminated", Severity.INFO, message, instance_id=target_id))
        else:
            instance.terminate(TerminationReason.REPORTED, now, now, confirmed=True)
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return ReportTerminationResult(instance_id=target_id, role=InstanceRole.TERMINATED.value)

    async def _primary_gone(self, agent: Agent, instance_id: str, now: datetime) -> list[DomainEvent]:
        agent.primary_instance_id = None
        if agent.mark_offline(now):
            agent.offline_notified = False
        agent.touch(now)
        for episode in await self._uow.episodes.find_open(agent.agent_id, instance_id):
            if episode.state is EpisodeState.AT_RISK:
                episode.state = EpisodeState.TERMINATING
                episode.deadline = now
                episode.notice_at = episode.notice_at or now
        await self._placement.cancel_switches_for(agent, instance_id, now)
        return []
