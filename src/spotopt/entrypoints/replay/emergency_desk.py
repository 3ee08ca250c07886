"""Interruptions of the replayed agent, handled the way the server's signal transactions and replica coordinator
handle them: episode transitions from ``episode_on`` (§3.5), replicas ensured per §3.7.1, the notice answer of
``termination_outcome`` and the coordinator rows of ``coordinator_step`` (§3.7.2), the promotion (§3.7.3), the
emergency on-demand fallback, and the precautionary standby (RP-11, when enabled).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from spotopt.domain.interruptions.emergency import (
    CoordinatorStep,
    ReplicaFate,
    TerminationFacts,
    TerminationStep,
    coordinator_step,
    released_replica_fate,
    replacement_allowed,
    secure_replica,
    termination_outcome,
)
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.lifecycle import EpisodeEvent, EpisodeTransition, episode_on, open_episode
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.guards import PromotionKind
from spotopt.domain.replicas.lifecycle import RetireReason, promote
from spotopt.domain.replicas.pool_selection import PoolCandidate, select_emergency_pool, select_standby_pool
from spotopt.domain.replicas.precaution import precautionary_standby_wanted
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, EpisodeId, InstanceId
from spotopt.entrypoints.replay.agent_state import AgentState, SpotoptSettings
from spotopt.entrypoints.replay.cloud import Cloud, Instance
from spotopt.entrypoints.replay.fleet import PoolNames
from spotopt.entrypoints.replay.replica_desk import ReplicaDesk


class DeskOwner(Protocol):
    """What the desk needs of the policy that owns it."""

    names: PoolNames
    agent: AgentState
    settings: SpotoptSettings
    switch: Instance | None

    @property
    def risk_threshold(self) -> Decimal: ...

    def pool_candidates(self, cloud: Cloud, now: datetime) -> list[PoolCandidate]: ...

    def place(self, cloud: Cloud, instance: Instance, now: datetime, *, failover: bool) -> None: ...


CLIENT = ClientId("replay-client")
AGENT = AgentId("replay-agent")


class EmergencyDesk:
    def __init__(self, owner: DeskOwner) -> None:
        self.owner = owner
        self.desk = ReplicaDesk(owner.names, CLIENT, AGENT)
        self.episode: InterruptionEpisode | None = None
        self.fallback: Instance | None = None
        self.opened = 0
        self.outcomes: Counter[str] = Counter()

    @property
    def episode_open(self) -> bool:
        return self.episode is not None and self.episode.is_open

    @property
    def busy(self) -> bool:
        return self.episode_open or self.fallback is not None or any(True for _ in self.desk.active())

    def select_pool(
        self, cloud: Cloud, now: datetime, *, primary_pool_id: str | None, failed: tuple[str, ...] = ()
    ) -> PoolCandidate | None:
        o = self.owner
        return select_emergency_pool(
            o.pool_candidates(cloud, now),
            primary_pool_id=primary_pool_id,
            instance_type=o.names.instance_type,
            region=o.names.region,
            risk_threshold=o.risk_threshold,
            failed_pool_ids=failed,
        )

    # --- signals -----------------------------------------------------------------------------------------------
    def rebalance(self, cloud: Cloud, now: datetime) -> None:
        transition = episode_on(self.episode, EpisodeEvent.REBALANCE, now)
        self._apply(cloud, transition, now)
        if transition.ensure_replica and self.episode_open:
            self._ensure(cloud, now, transition.replica_kind or ReplicaKind.AUTOMATIC_REBALANCE)

    def notice(self, cloud: Cloud, now: datetime, deadline: datetime) -> None:
        """§3.7.2 steps 1-6 in one go, as the notice transaction does."""
        transition = episode_on(self.episode, EpisodeEvent.NOTICE, now, termination_time=deadline)
        self._apply(cloud, transition, now)
        episode = self.episode
        if not transition.attempt_failover or episode is None or not episode.is_open:
            return
        replica, created = self._ensure(cloud, now, transition.replica_kind or ReplicaKind.AUTOMATIC_TERMINATION)
        kind = None if replica is None or created else self._promotion_kind(replica, episode, now)
        facts = TerminationFacts(
            ready_promotable=kind is PromotionKind.READY,
            degraded_promotable=kind is PromotionKind.DEGRADED,
            has_replica=replica is not None,
            replica_created=created,
            fallback_queued=self.fallback is not None,
        )
        step = termination_outcome(facts).step
        self.outcomes[f"notice:{step}"] += 1
        if step in (TerminationStep.PROMOTE, TerminationStep.PROMOTE_DEGRADED) and replica and kind:
            self._promote(cloud, replica, kind, now)
        elif step is TerminationStep.QUEUE_FALLBACK:
            self._queue_fallback(cloud, episode)

    def primary_gone(self, instance: Instance) -> None:
        """The preempted primary is gone unless a failover already moved the workload off it."""
        if self.owner.agent.primary is instance:
            self.owner.agent.primary = None

    def other_instance_lost(self, cloud: Cloud, instance: Instance, now: datetime) -> None:
        replica = self.desk.of_instance(instance)
        if replica is not None and replica.is_active:
            self.desk.interrupted(cloud, replica, now)

    def instance_ready(self, cloud: Cloud, instance: Instance, now: datetime) -> None:
        if instance is self.fallback:
            self._fallback_done(cloud, instance, now)
            return
        replica = self.desk.of_instance(instance)
        if replica is None or replica.status is not ReplicaStatus.SYNCING:
            return
        episode = self.episode
        if self.desk.ready(replica, now) and episode is not None and episode.state is EpisodeState.TERMINATING:
            kind = self._promotion_kind(replica, episode, now)
            if kind is not None:
                self._promote(cloud, replica, kind, now)

    def primary_moved(self, cloud: Cloud, now: datetime) -> None:
        """RP-1: a replica in the new primary's pool is retired (``pool_conflict``)."""
        for replica in list(self.desk.active()):
            if replica.pool_id == self.owner.agent.pool_id:
                self.desk.retire(cloud, replica, RetireReason.POOL_CONFLICT, now)

    def switched(self, cloud: Cloud, now: datetime, instance: Instance) -> None:
        """S-4: the primary changed through a switch; an open episode is superseded (V7) and its on-demand fallback,
        now aimed at a placement the agent has left or reached, is dropped (K3).
        """
        if self.fallback is not None:
            cloud.terminate(self.fallback)
            self.fallback = None
        if self.episode_open:
            transition = episode_on(
                self.episode, EpisodeEvent.SWITCHED, now, new_instance_id=InstanceId(instance.instance_id)
            )
            self._apply(cloud, transition, now)

    # --- the replica coordinator (§7.2) ------------------------------------------------------------------------
    def coordinate(self, cloud: Cloud, now: datetime) -> None:
        self.desk.expire(cloud, now)
        episode = self.episode
        if episode is not None and episode.is_open:
            self._apply(cloud, episode_on(episode, EpisodeEvent.TICK, now), now)
            if self.episode is episode and episode.state is EpisodeState.TERMINATING:  # still open
                self._continue_failover(cloud, episode, now)
        self._precaution(cloud, now)

    def _continue_failover(self, cloud: Cloud, episode: InterruptionEpisode, now: datetime) -> None:
        replica = self.desk.get(episode.replica_id)
        active = replica if replica is not None and replica.is_active else None
        kind = self._promotion_kind(active, episode, now) if active is not None else None
        fallback_queued = self.fallback is not None or episode.fallback_command_id is not None
        pool = None
        if active is None and not fallback_queued:
            pool = self.select_pool(cloud, now, primary_pool_id=self.owner.agent.pool_id)
        step = coordinator_step(
            ready_promotable=kind is PromotionKind.READY,
            degraded_promotable=kind is PromotionKind.DEGRADED,
            has_replica=active is not None,
            replacement_allowed=replacement_allowed(episode),
            pool_available=pool is not None,
            fallback_queued=fallback_queued,
            agent_enabled=True,
        )
        if step in (CoordinatorStep.PROMOTE, CoordinatorStep.PROMOTE_DEGRADED) and active and kind:
            self._promote(cloud, active, kind, now)
        elif step is CoordinatorStep.CREATE_REPLACEMENT:
            self._ensure(cloud, now, ReplicaKind.AUTOMATIC_TERMINATION)
        elif step is CoordinatorStep.QUEUE_FALLBACK:
            self._queue_fallback(cloud, episode)

    def _precaution(self, cloud: Cloud, now: datetime) -> None:
        """RP-11 upkeep: one standby while wanted (pool per U1), retired (``extra``) once it is not."""
        o = self.owner
        settings = o.settings.precaution
        if not settings.enabled or self.episode_open:
            return
        agent = o.agent
        wanted = agent.primary is not None and precautionary_standby_wanted(
            settings, mode=agent.mode, placement_since=agent.placement_since, episode_open=False, now=now
        )
        free = [r for r in self.desk.active() if r.episode_id is None]
        if wanted and not free:
            pool = select_standby_pool(
                o.pool_candidates(cloud, now),
                primary_pool_id=agent.pool_id,
                instance_type=o.names.instance_type,
                region=o.names.region,
                risk_threshold=o.risk_threshold,
            )
            if pool is not None:
                self.desk.create(cloud, pool.pool_id, ReplicaKind.MANUAL, now, by="precaution", episode=None)
        elif not wanted:
            for replica in free:
                self.desk.retire(cloud, replica, RetireReason.EXTRA, now)

    # --- effects -----------------------------------------------------------------------------------------------
    def _apply(self, cloud: Cloud, transition: EpisodeTransition, now: datetime) -> None:
        o = self.owner
        if transition.opens_episode and o.agent.primary is not None:
            self.opened += 1
            self.episode = open_episode(
                transition,
                episode_id=EpisodeId(f"episode-{self.opened}"),
                client_id=CLIENT,
                agent_id=AGENT,
                instance_id=InstanceId(o.agent.primary.instance_id),
                pool_id=o.agent.pool_id,
                now=now,
            )
        if transition.release_replica:
            self._release(cloud, now)
        if self.episode is not None and not self.episode.is_open:
            self.outcomes[f"episode:{self.episode.state}"] += 1
            self.episode = None

    def _ensure(self, cloud: Cloud, now: datetime, kind: ReplicaKind) -> tuple[Replica | None, bool]:
        """§3.7.1: the episode's replica, else the agent's spare replica, else a new one (RP-6 replacements)."""
        episode = self.episode
        if episode is None:
            return None, False
        own = self.desk.get(episode.replica_id)
        if own is not None and own.is_active:
            return own, False
        spare = next((r for r in self.desk.active() if r is not own), None)
        if spare is not None:
            spare.episode_id = episode.episode_id
            secure_replica(episode, spare.replica_id, now, replacement=False)
            return spare, False
        replacement = own is not None
        if replacement and not replacement_allowed(episode):
            return None, False
        failed = (own.pool_id,) if own is not None else ()  # RP-6: a replacement tries another pool first
        pool = self.select_pool(cloud, now, primary_pool_id=self.owner.agent.pool_id, failed=failed)
        if pool is None:
            return None, False
        replica = self.desk.create(cloud, pool.pool_id, kind, now, by="system", episode=episode.episode_id)
        secure_replica(episode, replica.replica_id, now, replacement=replacement)
        return (replica, True) if replica.is_active else (None, False)

    def _promotion_kind(self, replica: Replica, episode: InterruptionEpisode, now: datetime) -> PromotionKind | None:
        terminating = episode.state is EpisodeState.TERMINATING
        return self.desk.promotion_kind(replica, deadline=episode.deadline, now=now, terminating=terminating)

    def _promote(self, cloud: Cloud, replica: Replica, kind: PromotionKind, now: datetime) -> None:
        """§3.7.3 on the emergency path; the old primary runs on until AWS stops it at the deadline."""
        episode = self.episode
        promote(replica, kind, now).raise_for_conflict()
        instance = self.desk.instance(replica)
        if instance is None or episode is None:
            raise RuntimeError("a promotable replica has an instance and an episode")
        self.owner.place(cloud, instance, now, failover=True)
        for sibling in list(self.desk.active()):
            if sibling.episode_id == episode.episode_id:
                self.desk.retire(cloud, sibling, RetireReason.SIBLING_PROMOTED, now)
        transition = episode_on(
            episode,
            EpisodeEvent.PROMOTED,
            now,
            new_instance_id=InstanceId(instance.instance_id),
            promoted_replica_id=replica.replica_id,
            degraded=kind is PromotionKind.DEGRADED,
        )
        self._apply(cloud, transition, now)
        self._cancel_moves(cloud)

    def _cancel_moves(self, cloud: Cloud) -> None:
        if self.fallback is not None:
            cloud.terminate(self.fallback)
            self.fallback = None
        if self.owner.switch is not None:
            cloud.terminate(self.owner.switch)
            self.owner.switch = None

    def _queue_fallback(self, cloud: Cloud, episode: InterruptionEpisode) -> None:
        """§3.7.2 step 4: the emergency switch to on-demand, executed by the agent at once."""
        episode.fallback_command_id = CommandId(f"fallback-{episode.episode_id}")
        self.fallback = cloud.launch(None)

    def _fallback_done(self, cloud: Cloud, instance: Instance, now: datetime) -> None:
        """The fallback's on-demand instance is warm: it becomes primary (V9 through S-3 ``by_fallback``)."""
        self.fallback = None
        self.owner.place(cloud, instance, now, failover=True)
        if self.episode_open:
            transition = episode_on(
                self.episode,
                EpisodeEvent.SWITCHED,
                now,
                by_fallback=True,
                new_instance_id=InstanceId(instance.instance_id),
            )
            self._apply(cloud, transition, now)

    def _release(self, cloud: Cloud, now: datetime) -> None:
        """§3.6: the closed episode's replica is retired, or kept as the standby when RP-11 holds one."""
        episode = self.episode
        replica = self.desk.get(episode.replica_id) if episode is not None else None
        if replica is None or not replica.is_active:
            return
        others = any(r is not replica and r.episode_id is None for r in self.desk.active())
        fate = released_replica_fate(
            replica.kind, manual_mode=self.owner.settings.precaution.enabled, other_standby=others
        )
        if fate is ReplicaFate.RETIRE:
            self.desk.retire(cloud, replica, RetireReason.EPISODE_CLOSED, now)
        else:
            replica.episode_id = None
            if fate is ReplicaFate.BECOME_STANDBY:
                replica.kind = ReplicaKind.MANUAL
