"""Interruption signals (domain §2.7, §3.5, §3.7): the service the R8, R9 and A10 use cases share.

An application service (house style §7): it never commits; each use case commits its own transaction.
``receive`` locks the agent (bounded wait, EP-4) and attributes the signal (EP-7); ``handle`` stores the signal
first (EP-2), drives the episode (V1-V5, V13), ensures its replica (§3.7.1), takes the §3.7.2 steps for a notice,
times a promotion (V9) and records the events; ``keep_alone`` is EP-2's fallback when that transaction failed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from spotopt.application.agents.placement import Placement
from spotopt.application.errors import NotFoundError
from spotopt.application.interruptions.signal_intake import (
    ReceivedSignal,
    SignalCommand,
    SignalOutcome,
    attribute,
    failed_over_episode,
    not_on_primary,
    not_primary_outcome,
)
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.failover import Failover
from spotopt.application.replicas.supply import Ensured, ReplicaSupply
from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.interruptions.emergency import (
    TerminationFacts,
    TerminationStep,
    elapsed_ms,
    rebalance_action,
    termination_outcome,
)
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.interruptions.lifecycle import EpisodeEvent, EpisodeTransition, episode_on, open_episode
from spotopt.domain.interruptions.values import AttributedRole, SignalKind
from spotopt.domain.replicas import notices as replica_notices
from spotopt.domain.replicas.guards import PromotionKind
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import EpisodeId, InstanceId, new_id

# EP-4: the agent row lock of an emergency call waits at most this long (then CC-5 retries, within the budget).
EMERGENCY_LOCK_WAIT_SECONDS = 1


class SignalHandling:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, placement: Placement, supply: ReplicaSupply, failover: Failover
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement
        self._supply = supply
        self._failover = failover

    async def receive(self, command: SignalCommand) -> ReceivedSignal:
        """The agent locked (``LockContentionError`` past EP-4's wait, ``NotFoundError``), the signal attributed."""
        now = self._clock.now()
        agent = await self._uow.agents.get_for_update_bounded(
            command.client_id, command.agent_id, wait_seconds=EMERGENCY_LOCK_WAIT_SECONDS
        )
        if agent is None:
            raise NotFoundError("Agent not found")
        signal = await attribute(self._uow, agent, command.kind, command.instance_id, now)
        signal.detected_at, signal.termination_time = command.detected_at, command.termination_time
        return ReceivedSignal(agent, signal, command, now)

    async def handle(self, received: ReceivedSignal) -> SignalOutcome:
        """Everything the signal leads to, written through the unit of work; the caller commits."""
        agent, now = received.agent, received.now
        outcome, events = await self._handle(agent, received.signal, received.command, now)
        agent.touch(now)
        events = await self._time_failover(agent, outcome, events, now)
        await record_events(self._uow, events, now)
        return outcome

    async def keep_alone(self, received: ReceivedSignal) -> None:
        """EP-2 when ``handle`` or its commit failed: the work is rolled back and the signal alone is added again,
        outside any episode; the caller commits it.
        """
        await self._uow.rollback()
        received.signal.episode_id = None
        await self._uow.signals.add(received.signal)

    async def _time_failover(
        self, agent: Agent, outcome: SignalOutcome, events: list[DomainEvent], now: datetime
    ) -> list[DomainEvent]:
        """V9 ``failover_ms`` of a promotion made in this call: notice received → promotion written (flushed, only
        the commit left), not the single ``now`` of the transaction, which would always give 0.
        """
        episode, promotion = outcome.episode, outcome.promotion
        if promotion is None or promotion.replayed or episode is None or episode.notice_at is None:
            return events
        await self._uow.flush()
        episode.failover_ms = elapsed_ms(episode.notice_at, max(now, self._clock.now()))
        timed = replica_notices.failover_completed(
            agent,
            promotion.new_instance_id,
            promotion.replica.pool_id,
            episode.failover_ms,
            degraded=episode.degraded,
            late=episode.late,
        )
        return [timed if e.type == timed.type else e for e in events]

    async def _handle(
        self, agent: Agent, signal: InterruptionSignal, command: SignalCommand, now: datetime
    ) -> tuple[SignalOutcome, list[DomainEvent]]:
        target = signal.instance_id or agent.primary_instance_id
        replay = await failed_over_episode(self._uow, agent, target) if signal.kind is SignalKind.TERMINATION else None
        if replay is not None:
            signal.episode_id = replay.episode_id
            await self._uow.signals.add(signal)
            return await self._replay(agent, signal, replay, now), []
        if signal.attributed_role is not AttributedRole.PRIMARY or target is None:
            await self._uow.signals.add(signal)
            events = await not_on_primary(self._uow, self._placement.ledger, agent, signal, now)
            return not_primary_outcome(signal, now), events
        return await self._on_primary(agent, signal, command, target, now)

    async def _replay(
        self, agent: Agent, signal: InterruptionSignal, episode: InterruptionEpisode, now: datetime
    ) -> SignalOutcome:
        replica = (
            await self._uow.replicas.get(agent.agent_id, episode.promoted_replica_id)
            if episode.promoted_replica_id
            else None
        )
        promotion = await self._failover.promotion.replay(agent, replica) if replica is not None else None
        answer = termination_outcome(TerminationFacts(already_failed_over=True))
        return SignalOutcome(
            kind=signal.kind,
            attributed_role=signal.attributed_role,
            episode=episode,
            replica=replica,
            created=False,
            action=answer.action,
            promotion=promotion,
            command_id=episode.fallback_command_id,
            now=now,
        )

    async def _on_primary(
        self, agent: Agent, signal: InterruptionSignal, command: SignalCommand, target: str, now: datetime
    ) -> tuple[SignalOutcome, list[DomainEvent]]:
        open_ = next(iter(await self._uow.episodes.find_open(agent.agent_id, target)), None)
        previous = open_ or await self._uow.episodes.latest_for_instance(agent.agent_id, target)
        event = EpisodeEvent.NOTICE if signal.kind is SignalKind.TERMINATION else EpisodeEvent.REBALANCE
        transition = episode_on(previous, event, now, termination_time=signal.termination_time)
        episode = open_
        if transition.opens_episode:
            episode = open_episode(
                transition,
                episode_id=EpisodeId(new_id()),
                client_id=agent.client_id,
                agent_id=agent.agent_id,
                instance_id=InstanceId(target),
                pool_id=signal.pool_id,
                now=now,
            )
            await self._uow.episodes.add(episode)
        if episode is None:  # pragma: no cover - a signal on the primary always has or opens an episode
            raise NotFoundError("Episode not found")
        signal.episode_id = episode.episode_id
        await self._uow.signals.add(signal)  # EP-2: the first write of the transaction
        await self._escalate(agent, transition, now)
        events: list[DomainEvent] = []
        ensured = Ensured(replica=await self._episode_replica(agent, episode))
        if transition.ensure_replica:
            ensured = await self._supply.ensure_for_episode(
                agent, episode, _kind(agent, transition), now, command.hints
            )
            events += ensured.events
        if signal.kind is SignalKind.REBALANCE:
            return self._rebalance(agent, signal, episode, ensured, transition, events, now)
        return await self._notice(agent, signal, episode, ensured, transition, events, command, now)

    async def _episode_replica(self, agent: Agent, episode: InterruptionEpisode) -> Replica | None:
        replica = await self._uow.replicas.get(agent.agent_id, episode.replica_id) if episode.replica_id else None
        return replica if replica is not None and replica.is_active else None

    async def _escalate(self, agent: Agent, transition: EpisodeTransition, now: datetime) -> None:
        """V1/V3: pending non-emergency commands cancelled (``emergency_in_progress``); V3 counts the interruption."""
        if transition.cancel_pending_commands:
            for c in await self._uow.commands.list_for_agent(agent.agent_id):
                if c.status is CommandStatus.PENDING and c.origin is not CommandOrigin.EMERGENCY:
                    c.cancel("emergency_in_progress", now)
        if transition.count_interruption:
            agent.interruption_count += 1

    def _rebalance(
        self,
        agent: Agent,
        signal: InterruptionSignal,
        episode: InterruptionEpisode,
        ensured: Ensured,
        transition: EpisodeTransition,
        events: list[DomainEvent],
        now: datetime,
    ) -> tuple[SignalOutcome, list[DomainEvent]]:
        """V1/V2 (ensure) or V5 (signal only); the action is the replica's status code (pitfall 16)."""
        replica = ensured.replica
        action = rebalance_action(replica.status if replica else None, replica is not None)
        if transition.event == "rebalance_received":
            events.append(
                replica_notices.rebalance_received(
                    agent, episode.instance_id, episode.pool_id, episode.episode_id, replica
                )
            )
        outcome = SignalOutcome(
            kind=signal.kind,
            attributed_role=signal.attributed_role,
            episode=episode,
            replica=replica,
            created=ensured.created,
            action=action,
            now=now,
        )
        return outcome, events

    async def _notice(
        self,
        agent: Agent,
        signal: InterruptionSignal,
        episode: InterruptionEpisode,
        ensured: Ensured,
        transition: EpisodeTransition,
        events: list[DomainEvent],
        command: SignalCommand,
        now: datetime,
    ) -> tuple[SignalOutcome, list[DomainEvent]]:
        """§3.7.2 steps 3-6 as the domain's decision table says."""
        pick = None if ensured.created else await self._failover.pick(agent, episode, now, command.preferred_replica_id)
        facts = TerminationFacts(
            ready_promotable=pick is not None and pick.kind is PromotionKind.READY,
            degraded_promotable=pick is not None and pick.kind is PromotionKind.DEGRADED,
            has_replica=ensured.replica is not None or pick is not None,
            replica_created=ensured.created,
            fallback_queued=episode.fallback_command_id is not None,
            agent_enabled=agent.enabled,
        )
        answer = termination_outcome(facts)
        replica, promotion = ensured.replica, None
        if answer.promotes_now and pick is not None:
            promotion = await self._failover.promotion.promote(
                agent, pick.replica, now, kind=pick.kind, episode=episode
            )
            replica = promotion.replica
            events += promotion.events
        elif answer.step is TerminationStep.QUEUE_FALLBACK:
            queued, fallback_events = await self._supply.queue_fallback(agent, episode, now)
            events += fallback_events
            if queued is None:
                answer = termination_outcome(replace(facts, agent_enabled=False))
        if transition.event == "termination_notice" and episode.deadline is not None:
            events.append(
                replica_notices.termination_notice(
                    agent, episode.instance_id, episode.pool_id, episode.deadline, answer.action, episode.episode_id
                )
            )
        outcome = SignalOutcome(
            kind=signal.kind,
            attributed_role=signal.attributed_role,
            episode=episode,
            replica=replica,
            created=ensured.created,
            action=answer.action,
            command_id=episode.fallback_command_id,
            promotion=promotion,
            now=now,
        )
        return outcome, events


def _kind(agent: Agent, transition: EpisodeTransition) -> ReplicaKind:
    """§3.7.1 step 3: ``manual`` in manual-replica mode, else the kind of the signal that opened the need."""
    if agent.manual_replica_enabled:
        return ReplicaKind.MANUAL
    return transition.replica_kind or ReplicaKind.AUTOMATIC_TERMINATION
