"""A2: a heartbeat from one of the agent's processes (H-1 … H-7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from spotopt.application.agents.placement import Placement, adopt, correct_facts
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.liveness import LivenessRefresher
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import (
    HeartbeatCase,
    PlacementFacts,
    heartbeat_case,
    name_heartbeat_instance,
    parse_reported_status,
    primary_is_live,
)
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.liveness_refresh import plain_refresh
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole, KeptReason, ReportedStatus
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId, InstanceId
from spotopt.domain.shared.pools import Mode


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordHeartbeatCommand:
    client_id: ClientId
    agent_id: str
    status: str | None = None
    instance_id: str | None = None
    instance_type: str | None = None
    mode: Mode | None = None
    az: str | None = None
    monitored_instances: list[str] = field(default_factory=list)


class RecordHeartbeat:
    """- H-1 names the instance; H-2 primary: heartbeat time = max(stored, now), liveness from the status.
    - H-3 standby/kept-old: last seen only (AG-8); H-4 sighting, adopted (R-6) when the primary is not live.
    - H-5: an unnamed ``offline`` from the previous primary's process after a switch/failover is ignored.
    - H-6 statuses; ``error`` emits ``agent_reported_error``. H-7: unknown or deleted agent → not found.
    - CC-6: no row lock except for an adoption.
    - Fast path: a heartbeat that can only refresh liveness (``domain.agents.liveness_refresh``) is one conditional
      write; when the stored state does not allow it, nothing was written and the rules above decide.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        placement: Placement,
        timings: AgentTimings,
        refresher: LivenessRefresher,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement
        self._timings = timings
        self._refresher = refresher

    async def execute(self, command: RecordHeartbeatCommand) -> None:
        status = parse_reported_status(command.status)
        now = self._clock.now()
        refresh = plain_refresh(
            client_id=command.client_id,
            agent_id=command.agent_id,
            status=status,
            instance_id=command.instance_id,
            monitored_instances=command.monitored_instances,
            mode=command.mode,
            instance_type=command.instance_type,
            az=command.az,
            now=now,
        )
        if refresh is not None and await self._refresher.refresh(refresh):
            await self._uow.commit()
            return
        agent = await self._uow.agents.get(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        named = name_heartbeat_instance(command.instance_id, command.monitored_instances)
        instance = await self._uow.instances.get(agent.client_id, named) if named else None
        own = instance if instance is not None and instance.agent_id == agent.agent_id else None
        sighting = await self._uow.sightings.get(agent.client_id, named) if named and own is None else None
        # The live-primary and awaiting-termination facts only decide H-4 (a sighting) and H-5 (nothing named).
        needs_context = own is None and (named is None or sighting is not None)
        case = heartbeat_case(
            agent_exists=True,
            named_instance_id=named,
            named_role=own.role if own else None,
            named_is_sighting=sighting is not None,
            status=status,
            primary_is_live=await self._primary_live(agent, now) if needs_context else True,
            has_awaiting_termination=await self._awaiting_termination(agent) if needs_context else False,
            last_primary_change_at=agent.last_primary_change_at,
            now=now,
        )
        events = await self._apply(case, agent, own, command, status, named, now)
        if status is ReportedStatus.ERROR and case in (HeartbeatCase.PRIMARY, HeartbeatCase.PRIMARY_BY_DEFAULT):
            events.append(notices.plain(agent, "agent_reported_error", Severity.WARNING, "Agent reported an error"))
        await record_events(self._uow, events, now)
        await self._uow.commit()

    async def _apply(
        self,
        case: HeartbeatCase,
        agent: Agent,
        own: Instance | None,
        command: RecordHeartbeatCommand,
        status: ReportedStatus,
        named: str | None,
        now: datetime,
    ) -> list[DomainEvent]:
        if case in (HeartbeatCase.PRIMARY, HeartbeatCase.PRIMARY_BY_DEFAULT):
            return await self._primary(agent, own, command, status, now)
        if case is HeartbeatCase.NON_PRIMARY and own is not None:
            own.last_seen_at = now
        elif case is HeartbeatCase.SIGHTING and named is not None:
            sighting = await self._uow.sightings.get(agent.client_id, named)
            if sighting is not None:
                sighting.last_seen_at = now
        elif case is HeartbeatCase.ADOPTION and named is not None:
            return await self._adopt(agent, InstanceId(named), status, now)
        return []

    async def _primary(
        self,
        agent: Agent,
        own: Instance | None,
        command: RecordHeartbeatCommand,
        status: ReportedStatus,
        now: datetime,
    ) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        if agent.last_heartbeat_at is not None and agent.last_heartbeat_at > now:
            return events
        agent.last_heartbeat_at = now
        agent.reported_status = status
        primary = own
        if primary is None and agent.primary_instance_id is not None:
            primary = await self._uow.instances.get(agent.client_id, agent.primary_instance_id)
        if primary is not None:
            primary.last_seen_at = now
            if own is not None:
                reported = PlacementFacts(
                    mode=command.mode or Mode.UNKNOWN, instance_type=command.instance_type, az=command.az
                )
                events += correct_facts(agent, primary, reported)
        if status is ReportedStatus.OFFLINE:
            if agent.mark_offline(now):
                agent.offline_notified = True
                events.append(notices.agent_stopped(agent, agent.primary_instance_id, now))
            return events
        offline_since = agent.liveness_changed_at
        notified = agent.offline_notified
        if agent.mark_online(now):
            agent.offline_notified = False
            events.append(notices.agent_online(agent, offline_since, now, notify=notified))
        return events

    async def _adopt(self, agent: Agent, named: InstanceId, status: ReportedStatus, now: datetime) -> list[DomainEvent]:
        """H-4 → R-6: the sighting becomes the primary (agent row locked, CC-3)."""
        locked = await self._uow.agents.get_for_update(agent.client_id, agent.agent_id)
        sighting = await self._uow.sightings.get(agent.client_id, named)
        # Re-decide under the lock: a switch or promotion may have given the agent a live primary meanwhile.
        if locked is None or sighting is None or await self._primary_live(locked, now):
            return []
        await self._uow.sightings.delete(sighting)
        new = Instance(
            client_id=agent.client_id,
            instance_id=named,
            agent_id=agent.agent_id,
            role=InstanceRole.PRIMARY,
            origin=InstanceOrigin.ADOPTED,
            instance_type=sighting.instance_type or "unknown",
            region=sighting.region or "unknown",
            az=sighting.az or "unknown",
            mode=Mode(sighting.mode) if sighting.mode else Mode.UNKNOWN,
            first_seen_at=sighting.first_seen_at,
            role_changed_at=now,
            ami_id=sighting.ami_id,
            private_ip=sighting.private_ip,
            public_ip=sighting.public_ip,
            last_seen_at=now,
        )
        await self._uow.instances.add(new)
        old = (
            await self._uow.instances.get(agent.client_id, agent.primary_instance_id)
            if agent.primary_instance_id
            else None
        )
        deadline = await self._deadline(agent)
        events = await adopt(self._placement, self._uow, agent, new, old, deadline, now)
        agent.last_heartbeat_at = now
        agent.reported_status = status
        agent.mark_online(now)
        return events

    async def _deadline(self, agent: Agent) -> datetime | None:
        if agent.primary_instance_id is None:
            return None
        episodes = await self._uow.episodes.find_open(agent.agent_id, agent.primary_instance_id)
        return min((e.deadline for e in episodes if e.deadline is not None), default=None)

    async def _primary_live(self, agent: Agent, now: datetime) -> bool:
        deadline = await self._deadline(agent)
        return primary_is_live(agent, deadline, now, heartbeat_timeout_seconds=self._timings.heartbeat_timeout)

    async def _awaiting_termination(self, agent: Agent) -> bool:
        return any(
            i.role is InstanceRole.KEPT_OLD and i.kept_reason is KeptReason.AWAITING_TERMINATION
            for i in await self._uow.instances.list_for_agent(agent.agent_id)
        )
