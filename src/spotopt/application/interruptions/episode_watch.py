"""The replica coordinator's episode rows (domain §3.5 V6, V8, V10; §3.7.2 coordinator table; RP-6; §3.6 fates).

An application service: one open episode per call, inside the coordinator's transaction (agent locked, CC-4).
"""

from __future__ import annotations

from datetime import datetime

from spotopt.application.agents.placement import Placement
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.failover import Failover
from spotopt.application.replicas.supply import PoolHints, ReplicaSupply
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole, TerminationReason
from spotopt.domain.interruptions.emergency import (
    CoordinatorStep,
    ReplicaFate,
    coordinator_step,
    episode_lost,
    released_replica_fate,
    replacement_allowed,
)
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.lifecycle import EpisodeEvent, episode_on
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas import notices as replica_notices
from spotopt.domain.replicas.lifecycle import RetireReason
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.events import DomainEvent


class EpisodeWatch:
    """- ``at_risk``: V6 after 2 h without a rebalance (the replica's §3.6 fate, ``episode_cleared``); else an
      ended replica is replaced while RP-6 allows.
    - ``terminating``: promote when RP-4 holds (late after the deadline); else replace the ended replica (RP-6) or
      queue the on-demand fallback (enabled agents only); V8 at deadline + 60 s (skipped for a primary already
      terminated, pitfall 20); V10 at deadline + 15 min (``failover_failed``).
    - ``may_create`` is False once this tick created a replica for the agent (at most one per agent and tick).
    """

    def __init__(self, uow: UnitOfWork, placement: Placement, supply: ReplicaSupply, failover: Failover) -> None:
        self._uow = uow
        self._placement = placement
        self._supply = supply
        self._failover = failover

    async def tick(
        self, agent: Agent, episode: InterruptionEpisode, now: datetime, *, may_create: bool
    ) -> list[DomainEvent]:
        if episode.state is EpisodeState.AT_RISK:
            return await self._at_risk(agent, episode, now, may_create=may_create)
        if episode.state is EpisodeState.TERMINATING:
            return await self._terminating(agent, episode, now, may_create=may_create)
        return []

    async def _at_risk(
        self, agent: Agent, episode: InterruptionEpisode, now: datetime, *, may_create: bool
    ) -> list[DomainEvent]:
        replica = await self._replica(agent, episode)
        transition = episode_on(episode, EpisodeEvent.TICK, now)
        if transition.state is EpisodeState.CLEARED:  # V6
            events = await self._release(agent, episode, now)
            cleared = replica_notices.episode_cleared(
                agent, episode.instance_id, episode.episode_id, replica.replica_id if replica else None
            )
            return [*events, cleared]
        if may_create and await self._needs_replacement(agent, episode):
            ensured = await self._supply.ensure_for_episode(agent, episode, _kind(agent, episode), now, PoolHints())
            return ensured.events
        return []

    async def _terminating(
        self, agent: Agent, episode: InterruptionEpisode, now: datetime, *, may_create: bool
    ) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        if not episode_lost(episode, now):  # the late-failover window ends at deadline + 15 min (V10)
            promotion = await self._failover.continue_episode(agent, episode, now)
            if promotion is not None:
                return list(promotion.events)
            events = await self._replace_or_fall_back(agent, episode, now, may_create=may_create)
        transition = episode_on(episode, EpisodeEvent.TICK, now)
        if transition.terminate_old_primary:
            await self._old_primary_gone(agent, episode, now)
        if transition.state is EpisodeState.LOST:
            events += await self._release(agent, episode, now)
            events.append(replica_notices.failover_failed(agent, episode.instance_id, episode.episode_id))
        return events

    async def _replace_or_fall_back(
        self, agent: Agent, episode: InterruptionEpisode, now: datetime, *, may_create: bool
    ) -> list[DomainEvent]:
        if await self._uow.replicas.list_for_agent(agent.agent_id):
            if await self._replica(agent, episode) is None:  # §3.7.1 step 2: a live replica serves the episode
                await self._supply.ensure_for_episode(agent, episode, _kind(agent, episode), now, PoolHints())
            return []
        pool = await self._supply.emergency_pool(agent, now, PoolHints()) if may_create else None
        step = coordinator_step(
            ready_promotable=False,
            degraded_promotable=False,
            has_replica=False,
            replacement_allowed=replacement_allowed(episode),
            pool_available=pool is not None,
            fallback_queued=episode.fallback_command_id is not None,
            agent_enabled=agent.enabled,
        )
        if step is CoordinatorStep.CREATE_REPLACEMENT:
            ensured = await self._supply.ensure_for_episode(agent, episode, _kind(agent, episode), now, PoolHints())
            return ensured.events
        if step is CoordinatorStep.QUEUE_FALLBACK:
            _, events = await self._supply.queue_fallback(agent, episode, now)
            return events
        return []

    async def _needs_replacement(self, agent: Agent, episode: InterruptionEpisode) -> bool:
        """RP-6: the episode's replica ended without being promoted, and no other replica can serve it."""
        own = await self._uow.replicas.get(agent.agent_id, episode.replica_id) if episode.replica_id else None
        if own is None or own.is_active or own.status is ReplicaStatus.PROMOTED:
            return False
        return replacement_allowed(episode) and not await self._uow.replicas.list_for_agent(agent.agent_id)

    async def _old_primary_gone(self, agent: Agent, episode: InterruptionEpisode, now: datetime) -> None:
        """V8/I8: the interrupted primary is terminated at the deadline; the agent has no primary (A8)."""
        instance = await self._uow.instances.get(agent.client_id, episode.instance_id)
        if instance is None or instance.role is not InstanceRole.PRIMARY or episode.deadline is None:
            return
        await self._placement.terminate(instance, TerminationReason.INTERRUPTED, episode.deadline, now, confirmed=True)
        if agent.primary_instance_id == instance.instance_id:
            agent.primary_instance_id = None  # AG-4: the snapshot keeps the last primary's facts
            if agent.mark_offline(now):
                agent.offline_notified = False

    async def _release(self, agent: Agent, episode: InterruptionEpisode, now: datetime) -> list[DomainEvent]:
        """§3.6: the closed episode's replica is retired, kept as the standby, or becomes the standby."""
        replica = await self._replica(agent, episode)
        if replica is None:
            return []
        others = [r for r in await self._uow.replicas.list_for_agent(agent.agent_id) if r != replica]
        fate = released_replica_fate(replica.kind, manual_mode=agent.manual_replica_enabled, other_standby=bool(others))
        if fate is ReplicaFate.RETIRE:
            return await self._placement.retire_replica(agent, replica, RetireReason.EPISODE_CLOSED, now)
        if fate is ReplicaFate.BECOME_STANDBY:
            replica.kind = ReplicaKind.MANUAL
        replica.episode_id = None
        return []

    async def _replica(self, agent: Agent, episode: InterruptionEpisode) -> Replica | None:
        replica = await self._uow.replicas.get(agent.agent_id, episode.replica_id) if episode.replica_id else None
        return replica if replica is not None and replica.is_active else None


def _kind(agent: Agent, episode: InterruptionEpisode) -> ReplicaKind:
    """§3.7.1 step 3: ``manual`` in manual-replica mode, else the kind of the episode's phase."""
    if agent.manual_replica_enabled:
        return ReplicaKind.MANUAL
    if episode.state is EpisodeState.AT_RISK:
        return ReplicaKind.AUTOMATIC_REBALANCE
    return ReplicaKind.AUTOMATIC_TERMINATION
