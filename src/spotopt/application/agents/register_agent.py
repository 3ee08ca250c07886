"""A1: register an agent process under (client, logical agent id) and attribute its instance (§2.12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.application.agents.attribution import RegistrationAttribution
from spotopt.application.agents.config_view import AgentConfigView, config_view
from spotopt.application.agents.placement import OldPrimaryFate, Placement
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.errors import ConflictError, NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import (
    PlacementFacts,
    RegistrationCase,
    attribute_registration,
    primary_is_live,
)
from spotopt.domain.agents.registration import RegisteringProcess, new_agent, new_instance, reassign
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.matching import find_matching_switch_command
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import ClientId, InstanceId, instance_id
from spotopt.domain.shared.pools import Mode


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterAgentCommand:
    client_id: ClientId
    logical_agent_id: str
    instance_id: str
    instance_type: str
    region: str
    az: str
    mode: Mode = Mode.UNKNOWN
    hostname: str | None = None
    ami_id: str | None = None
    agent_version: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None

    @property
    def process(self) -> RegisteringProcess:
        return RegisteringProcess(
            instance_type=self.instance_type,
            region=self.region,
            az=self.az,
            mode=self.mode,
            hostname=self.hostname,
            ami_id=self.ami_id,
            agent_version=self.agent_version,
            private_ip=self.private_ip,
            public_ip=self.public_ip,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterAgentResult:
    created: bool
    case: RegistrationCase
    config: AgentConfigView


class RegisterAgent:
    """- R-1 … R-7 evaluated in order (pure ``attribute_registration``); R-8: never changes enabled/settings.
    - A new agent is created under the client row lock against ``max_agents`` (CL-3, 409 ``max_agents_reached``).
    - Placement changes lock the agent row (CC-3) and keep one primary (AG-3), the ledger (IN-8) and events.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, placement: Placement, timings: AgentTimings) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement
        self._timings = timings
        self._attribution = RegistrationAttribution(uow, placement)

    async def execute(self, command: RegisterAgentCommand) -> RegisterAgentResult:
        iid = instance_id(command.instance_id)
        now = self._clock.now()
        agent = await self._uow.agents.find_active_by_logical_id(
            command.client_id, command.logical_agent_id, for_update=True
        )
        if agent is None:
            # Two first registrations of one logical id: the client row lock serialises them, and this locking
            # re-read sees the agent the other one created, so both answer with the same agent_id (R-8, W12).
            await self._uow.clients.get_for_update(command.client_id)
            agent = await self._uow.agents.find_active_by_logical_id(
                command.client_id, command.logical_agent_id, for_update=True
            )
        if agent is None:
            agent, events = await self._create(command, iid, now)
            case = RegistrationCase.NEW_AGENT
        else:
            case, events = await self._existing(agent, command, iid, now)
        await record_events(self._uow, events, now)
        view = await config_view(self._uow, agent)
        await self._uow.commit()
        return RegisterAgentResult(created=case is RegistrationCase.NEW_AGENT, case=case, config=view)

    async def _create(
        self, command: RegisterAgentCommand, iid: InstanceId, now: datetime
    ) -> tuple[Agent, list[DomainEvent]]:
        client = await self._uow.clients.get_for_update(command.client_id)
        if client is None:
            raise NotFoundError("Client not found")
        count = await self._uow.agents.count_active(client.client_id)
        if count >= client.max_agents:
            raise ConflictError(
                "The client has reached its agent limit",
                code="max_agents_reached",
                max_agents=client.max_agents,
                agent_count=count,
            )
        agent = new_agent(client, command.logical_agent_id, command.process, now)
        await self._uow.agents.add(agent)
        instance = await self._uow.instances.get(client.client_id, iid)
        if instance is not None:
            owner = await self._uow.agents.get(client.client_id, instance.agent_id)
            if owner is not None:
                raise ConflictError("The instance belongs to another agent", code="instance_in_use")
            reassign(instance, agent.agent_id, command.process, now)
        else:
            instance = new_instance(agent, iid, command.process, InstanceOrigin.REGISTERED, now)
            await self._uow.instances.add(instance)
        await self._placement.make_primary(
            agent,
            instance,
            None,
            OldPrimaryFate(role=InstanceRole.KEPT_OLD),
            at=now,
            now=now,
            reason=CloseReason.ROLE_CHANGE,
        )
        # H-5: the first primary is no primary change; no previous primary's process can be shutting down.
        agent.last_primary_change_at = None
        agent.last_heartbeat_at = now
        where = notices.placement(instance.mode, instance.instance_type, instance.az, instance.pool_id)
        events = [notices.agent_registered(agent, iid, where, now)]
        if command.logical_agent_id == iid:
            agent.logical_id_warned = True
            events.append(notices.logical_id_is_instance_id(agent, iid))
        return agent, events

    async def _existing(
        self, agent: Agent, command: RegisterAgentCommand, iid: InstanceId, now: datetime
    ) -> tuple[RegistrationCase, list[DomainEvent]]:
        instance = await self._uow.instances.get(agent.client_id, iid)
        own = instance if instance is not None and instance.agent_id == agent.agent_id else None
        process = command.process
        match = await self._matching_command(agent, process.placement, now) if own is None else None
        deadline = await self._primary_deadline(agent)
        live = primary_is_live(agent, deadline, now, heartbeat_timeout_seconds=self._timings.heartbeat_timeout)
        case = attribute_registration(
            agent_exists=True,
            instance_role=own.role if own is not None else None,
            has_matching_switch_command=match is not None,
            primary_is_live=live,
        )
        attribution = self._attribution
        handler = {
            RegistrationCase.PRIMARY: attribution.primary,
            RegistrationCase.STANDBY: attribution.standby,
            RegistrationCase.KEPT_OLD_OR_TERMINATED: attribution.kept_old_or_terminated,
        }.get(case)
        if handler is not None and own is not None:
            return case, await handler(agent, own, process, now)
        if case is RegistrationCase.SWITCH_TARGET and match is not None:
            return case, await attribution.switch_target(agent, process, iid, match, now)
        if case is RegistrationCase.ADOPTION and instance is None:
            return case, await attribution.adoption(agent, process, iid, deadline, now)
        return RegistrationCase.UNATTACHED, await attribution.unattached(agent, process, iid, now)

    async def _matching_command(self, agent: Agent, facts: PlacementFacts, now: datetime) -> AgentCommand | None:
        commands = await self._uow.commands.list_for_agent(agent.agent_id, since=now - timedelta(minutes=30))
        switched = {
            c.command_id
            for c in commands
            if c.completed_at and await self._uow.switches.exists_for_command(c.command_id)
        }
        return find_matching_switch_command(commands, facts, now, switched_command_ids=switched)

    async def _primary_deadline(self, agent: Agent) -> datetime | None:
        if agent.primary_instance_id is None:
            return None
        episodes = await self._uow.episodes.find_open(agent.agent_id, agent.primary_instance_id)
        deadlines = [e.deadline for e in episodes if e.deadline is not None]
        return min(deadlines, default=None)
