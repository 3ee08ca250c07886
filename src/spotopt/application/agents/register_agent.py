"""A1: register an agent process under (client, logical agent id) and attribute its instance (§2.12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.application.agents.config_view import AgentConfigView, config_view
from spotopt.application.agents.placement import OldPrimaryFate, Placement, adopt, correct_facts
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
    is_placeholder,
    primary_is_live,
)
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole, KeptReason, TerminationReason
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.matching import find_matching_switch_command, switch_takeover
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, InstanceId, instance_id, new_id
from spotopt.domain.shared.pools import Mode, region_of_az


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
        agent = _new_agent(client, command, now)
        await self._uow.agents.add(agent)
        instance = await self._uow.instances.get(client.client_id, iid)
        if instance is not None:
            owner = await self._uow.agents.get(client.client_id, instance.agent_id)
            if owner is not None:
                raise ConflictError("The instance belongs to another agent", code="instance_in_use")
            _reassign(instance, agent.agent_id, command, now)
        else:
            instance = _new_instance(agent, command, iid, InstanceOrigin.REGISTERED, now)
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
        facts = _facts(command)
        match = await self._matching_command(agent, facts, now) if own is None else None
        deadline = await self._primary_deadline(agent)
        live = primary_is_live(agent, deadline, now, heartbeat_timeout_seconds=self._timings.heartbeat_timeout)
        case = attribute_registration(
            agent_exists=True,
            instance_role=own.role if own is not None else None,
            has_matching_switch_command=match is not None,
            primary_is_live=live,
        )
        handler = {
            RegistrationCase.PRIMARY: self._refresh_primary,
            RegistrationCase.STANDBY: self._seen,
            RegistrationCase.KEPT_OLD_OR_TERMINATED: self._seen_old,
        }.get(case)
        if handler is not None and own is not None:
            return case, await handler(agent, own, command, now)
        if case is RegistrationCase.SWITCH_TARGET and match is not None:
            return case, await self._switch_target(agent, command, iid, match, now)
        if case is RegistrationCase.ADOPTION and instance is None:
            return case, await self._adopt(agent, command, iid, deadline, now)
        return RegistrationCase.UNATTACHED, await self._sighting(agent, command, iid, now)

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

    async def _refresh_primary(
        self, agent: Agent, instance: Instance, command: RegisterAgentCommand, now: datetime
    ) -> list[DomainEvent]:
        """R-2: identity and facts refreshed (a changed known fact is a correction); liveness online."""
        _refresh_identity(agent, command)
        instance.last_seen_at = now
        if command.ami_id and not is_placeholder(command.ami_id):
            instance.ami_id = command.ami_id
        events = correct_facts(agent, instance, _facts(command))
        events += self._back_online(agent, now)
        agent.last_heartbeat_at = max(agent.last_heartbeat_at or now, now)
        return events

    async def _seen(
        self, _agent: Agent, instance: Instance, _: RegisterAgentCommand, now: datetime
    ) -> list[DomainEvent]:
        """R-3: a standby's process registered: its last-seen time only."""
        instance.last_seen_at = now
        return []

    async def _seen_old(
        self, agent: Agent, instance: Instance, _: RegisterAgentCommand, now: datetime
    ) -> list[DomainEvent]:
        """R-4: last-seen; a presumed-gone instance returns to kept-old (IN-6, I14)."""
        instance.last_seen_at = now
        if (
            instance.role is not InstanceRole.TERMINATED
            or instance.termination_reason is not TerminationReason.PRESUMED_GONE
        ):
            return []
        if instance.termination_confirmed:
            return []
        instance.keep_old(KeptReason.KEPT, now)
        instance.terminated_at = None
        instance.termination_reason = None
        await self._placement.ledger.open(instance, now, now)
        return [
            notices.plain(
                agent,
                "instance_reappeared",
                Severity.WARNING,
                f"Instance {instance.instance_id} was seen again",
                instance_id=instance.instance_id,
            )
        ]

    async def _switch_target(
        self, agent: Agent, command: RegisterAgentCommand, iid: InstanceId, match: AgentCommand, now: datetime
    ) -> list[DomainEvent]:
        """R-5: the switch target registered first; it becomes primary, the command's lease is pinned (CM-9)."""
        episode = await self._fallback_episode(agent, match.command_id)
        takeover = switch_takeover(match, now=now, episode_deadline=episode.deadline if episode else None)
        new = await self._attach_or_create(agent, command, iid, takeover.origin, now)
        old = await self._current_primary(agent)
        fate = OldPrimaryFate(
            role=InstanceRole.KEPT_OLD,
            kept_reason=takeover.kept_reason,
            expected_at=takeover.termination_expected_at,
            cause=takeover.expected_cause,
        )
        events = await self._placement.make_primary(
            agent, new, old, fate, at=now, now=now, reason=CloseReason.SWITCH, keep_command=match
        )
        match.pin(now)
        if episode is not None and episode.state is EpisodeState.TERMINATING:
            episode.state = EpisodeState.FAILED_OVER
            episode.new_instance_id = new.instance_id
            episode.closed_at = now
            episode.close_reason = "fallback_primary"
        _refresh_identity(agent, command)
        agent.last_heartbeat_at = now
        return events + self._back_online(agent, now)

    async def _adopt(
        self,
        agent: Agent,
        command: RegisterAgentCommand,
        iid: InstanceId,
        deadline: datetime | None,
        now: datetime,
    ) -> list[DomainEvent]:
        """R-6: no live primary and no matching command: adopt this instance; the old primary is presumed gone."""
        new = await self._attach_or_create(agent, command, iid, InstanceOrigin.ADOPTED, now)
        old = await self._current_primary(agent)
        events = await adopt(self._placement, self._uow, agent, new, old, deadline, now)
        _refresh_identity(agent, command)
        agent.last_heartbeat_at = now
        return events + self._back_online(agent, now)

    async def _sighting(
        self, agent: Agent, command: RegisterAgentCommand, iid: InstanceId, now: datetime
    ) -> list[DomainEvent]:
        """R-7: an unknown instance while the primary is live is only recorded (once-a-day warning)."""
        sighting = await self._uow.sightings.get(agent.client_id, iid)
        if sighting is None:
            sighting = UnattachedSighting(
                client_id=agent.client_id,
                instance_id=iid,
                agent_id=agent.agent_id,
                first_seen_at=now,
                last_seen_at=now,
                instance_type=command.instance_type,
                region=command.region,
                az=command.az,
                mode=command.mode.value,
                ami_id=command.ami_id,
                private_ip=command.private_ip,
                public_ip=command.public_ip,
            )
            await self._uow.sightings.add(sighting)
        sighting.last_seen_at = now
        today = now.date().isoformat()
        if sighting.warned_on == today:
            return []
        sighting.warned_on = today
        return [notices.unattached_instance(agent, iid, now)]

    async def _attach_or_create(
        self, agent: Agent, command: RegisterAgentCommand, iid: InstanceId, origin: InstanceOrigin, now: datetime
    ) -> Instance:
        sighting = await self._uow.sightings.get(agent.client_id, iid)
        if sighting is not None:
            await self._uow.sightings.delete(sighting)
        instance = _new_instance(agent, command, iid, origin, now)
        if sighting is not None:
            instance.first_seen_at = min(sighting.first_seen_at, now)
        await self._uow.instances.add(instance)
        return instance

    async def _current_primary(self, agent: Agent) -> Instance | None:
        if agent.primary_instance_id is None:
            return None
        return await self._uow.instances.get(agent.client_id, agent.primary_instance_id)

    async def _fallback_episode(self, agent: Agent, command_id: CommandId) -> InterruptionEpisode | None:
        for episode in await self._uow.episodes.find_open(agent.agent_id):
            if episode.fallback_command_id == command_id:
                return episode
        return None

    def _back_online(self, agent: Agent, now: datetime) -> list[DomainEvent]:
        offline_since = agent.liveness_changed_at
        notified = agent.offline_notified
        if not agent.mark_online(now):
            return []
        agent.offline_notified = False
        return [notices.agent_online(agent, offline_since, now, notify=notified)]


def _facts(command: RegisterAgentCommand) -> PlacementFacts:
    return PlacementFacts(mode=command.mode, instance_type=command.instance_type, az=command.az, region=command.region)


def _refresh_identity(agent: Agent, command: RegisterAgentCommand) -> None:
    for name in ("hostname", "agent_version", "private_ip", "public_ip"):
        value = getattr(command, name)
        if value is not None and not is_placeholder(value):
            setattr(agent, name, value)


def _new_agent(client: Client, command: RegisterAgentCommand, now: datetime) -> Agent:
    """CL-7: client defaults apply at creation; thresholds are the defaults (DP-17)."""
    agent = Agent(
        agent_id=AgentId(new_id()),
        client_id=client.client_id,
        logical_agent_id=command.logical_agent_id,
        created_at=now,
        updated_at=now,
        auto_switch_enabled=client.default_auto_switch_enabled,
        auto_terminate_enabled=client.default_auto_terminate_enabled,
        terminate_wait_seconds=client.default_terminate_wait_seconds,
        liveness_changed_at=now,
    )
    _refresh_identity(agent, command)
    return agent


def _new_instance(
    agent: Agent, command: RegisterAgentCommand, iid: InstanceId, origin: InstanceOrigin, now: datetime
) -> Instance:
    az = command.az
    region = command.region if not is_placeholder(command.region) else region_of_az(az)
    return Instance(
        client_id=agent.client_id,
        instance_id=iid,
        agent_id=agent.agent_id,
        role=InstanceRole.PRIMARY,
        origin=origin,
        instance_type=command.instance_type,
        region=region,
        az=az,
        mode=command.mode,
        first_seen_at=now,
        role_changed_at=now,
        ami_id=command.ami_id,
        private_ip=command.private_ip,
        public_ip=command.public_ip,
        launched_at=now,
        primary_since=now,
        last_seen_at=now,
    )


def _reassign(instance: Instance, agent_id: AgentId, command: RegisterAgentCommand, now: datetime) -> None:
    """R-1: an instance of a deleted agent is re-assigned to the new agent (its history stays with the old one)."""
    instance.agent_id = agent_id
    instance.role = InstanceRole.TERMINATED
    instance.termination_confirmed = False
    instance.terminated_at = None
    instance.termination_reason = None
    instance.origin = InstanceOrigin.REGISTERED
    instance.first_seen_at = now
    instance.last_seen_at = now
    if command.mode is not Mode.UNKNOWN:
        instance.mode = command.mode
