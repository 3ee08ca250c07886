"""The replica coordinator for ONE agent (domain §7.2 "Replica coordinator"); the job loops over
``AgentRepository.agents_needing_coordination`` and calls this once per agent and tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.application.agents.placement import Placement
from spotopt.application.interruptions.episode_watch import EpisodeWatch
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.effects import ReplicaEffects
from spotopt.application.replicas.standby_upkeep import StandbyUpkeep
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import ExpectedCause, InstanceRole, KeptReason, TerminationReason
from spotopt.domain.interruptions.emergency import OLD_PRIMARY_GRACE
from spotopt.domain.replicas.guards import SYNC_TIMEOUT_REASON, launch_request_expired, sync_expired
from spotopt.domain.replicas.lifecycle import fail
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import AgentId, ClientId

SWITCH_TERMINATION_GRACE = timedelta(minutes=15)  # I12, cause ``switch``


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinateReplicasCommand:
    client_id: ClientId
    agent_id: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinateReplicasResult:
    skipped: bool  # the agent row was busy (SKIP LOCKED) or the agent is gone: the next tick picks it up
    events: tuple[str, ...] = ()


class CoordinateReplicas:
    """- CC-4: the agent row is locked with SKIP LOCKED; a busy agent is skipped. Every action re-checks state.
    - Replicas: L9 (launch request failed after its 3rd lease expired or 15 min, RP-10, pitfall 5), L10 (20 min
      syncing), with their instance effects and the replacement that follows (RP-6).
    - Episodes: V6, the §3.7.2 coordinator rows (promotion, replacement, fallback), V8, V10 (``EpisodeWatch``).
    - Manual-replica upkeep U1-U5 (``StandbyUpkeep``); I12 for kept-old instances awaiting termination.
    - Never more than one replica created per agent per tick; one commit.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        placement: Placement,
        effects: ReplicaEffects,
        episodes: EpisodeWatch,
        upkeep: StandbyUpkeep,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement
        self._effects = effects
        self._episodes = episodes
        self._upkeep = upkeep

    async def execute(self, command: CoordinateReplicasCommand) -> CoordinateReplicasResult:
        agent = await self._uow.agents.get_for_update_skip_locked(command.client_id, command.agent_id)
        if agent is None:
            return CoordinateReplicasResult(skipped=True)
        now = self._clock.now()
        events = await self._timeouts(agent, now)
        created = False
        for episode in await self._uow.episodes.find_open(agent.agent_id):
            before = len(await self._uow.replicas.list_for_agent(agent.agent_id))
            events += await self._episodes.tick(agent, episode, now, may_create=not created)
            created = created or len(await self._uow.replicas.list_for_agent(agent.agent_id)) > before
        upkeep_events, _ = await self._upkeep.run(agent, now, may_create=not created)
        events += upkeep_events
        await self._awaiting_termination(agent, now)
        if events:
            agent.touch(now)
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return CoordinateReplicasResult(skipped=False, events=tuple(e.type for e in events))

    async def _timeouts(self, agent: Agent, now: datetime) -> list[DomainEvent]:
        """L9/L10: launch requests that were never launched, replicas that never finished syncing."""
        events: list[DomainEvent] = []
        for replica in await self._uow.replicas.list_for_agent(agent.agent_id):
            reason = launch_request_expired(replica, now) or (
                SYNC_TIMEOUT_REASON if sync_expired(replica, now) else None
            )
            if reason is not None:
                events += await self._effects.apply(agent, replica, fail(replica, reason, now), now)
        return events

    async def _awaiting_termination(self, agent: Agent, now: datetime) -> None:
        """I12: a kept-old instance awaiting termination and not seen after the expected time is terminated."""
        for instance in await self._uow.instances.list_for_agent(agent.agent_id):
            if _overdue(instance, now):
                interrupted = instance.expected_cause is ExpectedCause.INTERRUPTION
                expected = instance.termination_expected_at or now
                await self._placement.terminate(
                    instance,
                    TerminationReason.INTERRUPTED if interrupted else TerminationReason.PRESUMED_GONE,
                    max(expected, instance.last_seen_at or expected),
                    now,
                    confirmed=interrupted,
                )


def _overdue(instance: Instance, now: datetime) -> bool:
    expected = instance.termination_expected_at
    if (
        instance.role is not InstanceRole.KEPT_OLD
        or instance.kept_reason is not KeptReason.AWAITING_TERMINATION
        or expected is None
    ):
        return False
    if instance.last_seen_at is not None and instance.last_seen_at > expected:
        return False
    grace = OLD_PRIMARY_GRACE if instance.expected_cause is ExpectedCause.INTERRUPTION else SWITCH_TERMINATION_GRACE
    return now >= expected + grace
