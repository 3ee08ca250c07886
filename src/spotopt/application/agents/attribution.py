"""The registration attribution service: what each attributed case (R-2 … R-7, §2.12) does to an existing agent and its
instances. Never commits; the registration use case does.
"""

from __future__ import annotations

from datetime import datetime

from spotopt.application.agents.placement import OldPrimaryFate, Placement, adopt, correct_facts
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import is_placeholder
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.registration import RegisteringProcess, new_instance, new_sighting, refresh_identity
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole, KeptReason, TerminationReason
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.matching import switch_takeover
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import CommandId, InstanceId


class RegistrationAttribution:
    """Applies the case ``attribute_registration`` chose; every method returns the events to record."""

    def __init__(self, uow: UnitOfWork, placement: Placement) -> None:
        self._uow = uow
        self._placement = placement

    async def primary(
        self, agent: Agent, instance: Instance, process: RegisteringProcess, now: datetime
    ) -> list[DomainEvent]:
        """R-2: identity and facts refreshed (a changed known fact is a correction); liveness online."""
        refresh_identity(agent, process)
        instance.last_seen_at = now
        if process.ami_id and not is_placeholder(process.ami_id):
            instance.ami_id = process.ami_id
        events = correct_facts(agent, instance, process.placement)
        events += back_online(agent, now)
        agent.last_heartbeat_at = max(agent.last_heartbeat_at or now, now)
        return events

    async def standby(
        self, _agent: Agent, instance: Instance, _process: RegisteringProcess, now: datetime
    ) -> list[DomainEvent]:
        """R-3: a standby's process registered: its last-seen time only."""
        instance.last_seen_at = now
        return []

    async def kept_old_or_terminated(
        self, agent: Agent, instance: Instance, _process: RegisteringProcess, now: datetime
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

    async def switch_target(
        self, agent: Agent, process: RegisteringProcess, iid: InstanceId, match: AgentCommand, now: datetime
    ) -> list[DomainEvent]:
        """R-5: the switch target registered first; it becomes primary, the command's lease is pinned (CM-9)."""
        episode = await self._fallback_episode(agent, match.command_id)
        takeover = switch_takeover(match, now=now, episode_deadline=episode.deadline if episode else None)
        new = await self._attach_or_create(agent, process, iid, takeover.origin, now)
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
        refresh_identity(agent, process)
        agent.last_heartbeat_at = now
        return events + back_online(agent, now)

    async def adoption(
        self, agent: Agent, process: RegisteringProcess, iid: InstanceId, deadline: datetime | None, now: datetime
    ) -> list[DomainEvent]:
        """R-6: no live primary and no matching command: adopt this instance; the old primary is presumed gone."""
        new = await self._attach_or_create(agent, process, iid, InstanceOrigin.ADOPTED, now)
        old = await self._current_primary(agent)
        events = await adopt(self._placement, self._uow, agent, new, old, deadline, now)
        refresh_identity(agent, process)
        agent.last_heartbeat_at = now
        return events + back_online(agent, now)

    async def unattached(
        self, agent: Agent, process: RegisteringProcess, iid: InstanceId, now: datetime
    ) -> list[DomainEvent]:
        """R-7: an unknown instance while the primary is live is only recorded (once-a-day warning)."""
        sighting = await self._uow.sightings.get(agent.client_id, iid)
        if sighting is None:
            sighting = new_sighting(agent, iid, process, now)
            await self._uow.sightings.add(sighting)
        sighting.last_seen_at = now
        today = now.date().isoformat()
        if sighting.warned_on == today:
            return []
        sighting.warned_on = today
        return [notices.unattached_instance(agent, iid, now)]

    async def _attach_or_create(
        self, agent: Agent, process: RegisteringProcess, iid: InstanceId, origin: InstanceOrigin, now: datetime
    ) -> Instance:
        sighting = await self._uow.sightings.get(agent.client_id, iid)
        if sighting is not None:
            await self._uow.sightings.delete(sighting)
        instance = new_instance(agent, iid, process, origin, now)
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


def back_online(agent: Agent, now: datetime) -> list[DomainEvent]:
    """A registration is a sign of life: an offline agent comes back online (event ``agent_online``)."""
    offline_since = agent.liveness_changed_at
    notified = agent.offline_notified
    if not agent.mark_online(now):
        return []
    agent.offline_notified = False
    return [notices.agent_online(agent, offline_since, now, notify=notified)]
