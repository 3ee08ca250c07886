"""The one promotion transaction of domain §3.7.3, for the manual request (R3) and every emergency path.

An application service (house style §7): it runs inside the caller's transaction, after the caller locked the agent
row (CC-2, CC-3), and never commits. Placement effects (one primary, ledger split, command cancellation, replicas in
the new pool, V7) go through ``Placement``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.application.agents.placement import OldPrimaryFate, Placement
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.errors import ConflictError, NotFoundError
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import primary_is_live
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import ExpectedCause, InstanceRole, KeptReason, TerminationReason
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.lifecycle import EpisodeEvent, episode_on
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.replicas import notices as replica_notices
from spotopt.domain.replicas.guards import PromotionKind
from spotopt.domain.replicas.lifecycle import RetireReason, promote
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus, SyncStatus
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import InstanceId, ReplicaId, new_id
from spotopt.domain.shared.pools import Mode

PROMOTION_IN_PROGRESS = "promotion_in_progress"
# §3.7.3: another replica of the agent promoted this recently counts as a concurrent promotion.
CONCURRENT_WINDOW = timedelta(seconds=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionResult:
    """What a promotion did (or, ``replayed``, did in an earlier request: §3.7.3 idempotency)."""

    replica: Replica
    new_instance_id: InstanceId
    old_instance_id: InstanceId | None
    old_instance_role: InstanceRole | None
    demoted_replica_id: ReplicaId | None
    promoted_at: datetime
    episode: InterruptionEpisode | None
    replayed: bool
    events: tuple[DomainEvent, ...] = ()


class Promotion:
    """- Steps 1-9 of §3.7.3, all in the caller's transaction; EP-5: the old primary is demoted only now.
    - Emergency (a ``terminating`` episode of the old primary): old primary ``kept_old(awaiting_termination)`` until
      the deadline (I5), ``terminated(interrupted)`` after it; episode ``failed_over`` (V9); ``last_failover_at``.
    - Manual: I4 (standby with a new ready ``manual`` replica) in manual-replica mode with ``demote_old_primary`` for
      a live primary outside any episode; else I6/I7. An ``at_risk`` episode is superseded (V7).
    - The same replica again returns the first result; another replica promoted moments ago is
      ``promotion_in_progress`` (409).
    """

    def __init__(self, uow: UnitOfWork, placement: Placement, timings: AgentTimings) -> None:
        self._uow = uow
        self._placement = placement
        self._timings = timings

    async def promote(
        self,
        agent: Agent,
        replica: Replica,
        now: datetime,
        *,
        kind: PromotionKind = PromotionKind.READY,
        episode: InterruptionEpisode | None = None,
        demote_old_primary: bool = True,
    ) -> PromotionResult:
        if replica.status is ReplicaStatus.PROMOTED:
            return await self.replay(agent, replica)
        if episode is None:  # an emergency never waits: its episode already serialises its promotion (V9)
            await self._refuse_concurrent(agent, replica, now)
        new = await self._uow.instances.get(agent.client_id, replica.instance_id) if replica.instance_id else None
        if new is None or new.agent_id != agent.agent_id:
            raise NotFoundError("The replica's instance is unknown", replica_id=replica.replica_id)
        promote(replica, kind, now).raise_for_conflict()  # step 1 (RP-4 re-checked by the domain)
        old = await self._primary(agent)
        episode = episode or await self._terminating_episode(agent, old)
        fate, demote = await self._old_fate(agent, old, episode, now, demote_old_primary)
        reason = CloseReason.FAILOVER if episode is not None else CloseReason.PROMOTION
        events = await self._placement.make_primary(agent, new, old, fate, at=now, now=now, reason=reason)
        demoted = await self._demote(agent, old, new, now) if demote and old is not None else None
        events += await self._close_episode(agent, replica, new, episode, now)
        events += await self._notices(agent, replica, old, episode, now)
        if demoted is not None:
            events.append(replica_notices.replica_created(agent, demoted))
        return PromotionResult(
            replica=replica,
            new_instance_id=new.instance_id,
            old_instance_id=old.instance_id if old is not None else None,
            old_instance_role=old.role if old is not None else None,
            demoted_replica_id=demoted.replica_id if demoted is not None else None,
            promoted_at=now,
            episode=episode,
            replayed=False,
            events=tuple(events),
        )

    async def replay(self, agent: Agent, replica: Replica) -> PromotionResult:
        """The recorded result of an earlier promotion of ``replica`` (§3.7.3, EP-4, W38)."""
        if replica.instance_id is None or replica.promoted_at is None:
            raise ConflictError("The replica has no recorded promotion", code=PROMOTION_IN_PROGRESS)
        episode = await self._uow.episodes.get(replica.episode_id) if replica.episode_id else None
        if episode is not None and episode.promoted_replica_id != replica.replica_id:
            episode = None
        old = await self._replaced_instance(agent, replica, episode)
        demoted = await self._uow.replicas.find_by_instance(agent.agent_id, old.instance_id) if old else None
        if demoted is not None and demoted.created_at != replica.promoted_at:
            demoted = None
        return PromotionResult(
            replica=replica,
            new_instance_id=replica.instance_id,
            old_instance_id=old.instance_id if old is not None else None,
            old_instance_role=old.role if old is not None else None,
            demoted_replica_id=demoted.replica_id if demoted is not None else None,
            promoted_at=replica.promoted_at,
            episode=episode,
            replayed=True,
        )

    async def _refuse_concurrent(self, agent: Agent, replica: Replica, now: datetime) -> None:
        for other in await self._uow.replicas.list_for_agent(agent.agent_id, include_terminal=True):
            recent = other.promoted_at is not None and now - other.promoted_at < CONCURRENT_WINDOW
            if other != replica and other.status is ReplicaStatus.PROMOTED and recent:
                raise ConflictError(
                    "Another replica of the agent is being promoted",
                    code=PROMOTION_IN_PROGRESS,
                    replica_id=other.replica_id,
                )

    async def _primary(self, agent: Agent) -> Instance | None:
        if agent.primary_instance_id is None:
            return None
        old = await self._uow.instances.get(agent.client_id, agent.primary_instance_id)
        return old if old is not None and old.role is InstanceRole.PRIMARY else None

    async def _terminating_episode(self, agent: Agent, old: Instance | None) -> InterruptionEpisode | None:
        """A manual promotion while the primary's notice runs is that episode's failover (V9)."""
        if old is None:
            return None
        episodes = await self._uow.episodes.find_open(agent.agent_id, old.instance_id)
        return next((e for e in episodes if e.state is EpisodeState.TERMINATING), None)

    async def _old_fate(
        self,
        agent: Agent,
        old: Instance | None,
        episode: InterruptionEpisode | None,
        now: datetime,
        demote_requested: bool,
    ) -> tuple[OldPrimaryFate, bool]:
        """§3.7.3 step 3 (I4-I7); the second value says whether I4 applies."""
        if episode is not None:
            deadline = episode.deadline
            if deadline is not None and now >= deadline:
                episode.old_primary_terminated = True
                return OldPrimaryFate(
                    role=InstanceRole.TERMINATED,
                    termination_reason=TerminationReason.INTERRUPTED,
                    terminated_at=deadline,
                    confirmed=True,
                ), False
            return OldPrimaryFate(
                role=InstanceRole.KEPT_OLD,
                kept_reason=KeptReason.AWAITING_TERMINATION,
                expected_at=deadline,
                cause=ExpectedCause.INTERRUPTION,
            ), False
        if old is not None and demote_requested and await self._may_demote(agent, old, now):
            return OldPrimaryFate(role=InstanceRole.STANDBY), True
        reason = KeptReason.TERMINATION_REQUESTED if agent.auto_terminate_enabled else KeptReason.KEPT
        return OldPrimaryFate(role=InstanceRole.KEPT_OLD, kept_reason=reason), False

    async def _may_demote(self, agent: Agent, old: Instance, now: datetime) -> bool:
        """I4 guard: manual-replica mode, a live spot primary outside any episode, and no earlier replica record
        for its instance id (a replica's instance id is unique per agent, RP-3).
        """
        if not agent.manual_replica_enabled or old.mode is not Mode.SPOT or old.pool_id is None:
            return False
        if await self._uow.episodes.find_open(agent.agent_id, old.instance_id):
            return False
        if await self._uow.replicas.find_by_instance(agent.agent_id, old.instance_id) is not None:
            return False
        return primary_is_live(agent, None, now, heartbeat_timeout_seconds=self._timings.heartbeat_timeout)

    async def _demote(self, agent: Agent, old: Instance, new: Instance, now: datetime) -> Replica:
        """I4: the old primary is the new standby, as a ready ``manual`` replica of its own pool."""
        replica = Replica(
            replica_id=ReplicaId(new_id()),
            client_id=agent.client_id,
            agent_id=agent.agent_id,
            kind=ReplicaKind.MANUAL,
            status=ReplicaStatus.READY,
            pool_id=old.pool_id or "",
            instance_type=old.instance_type,
            region=old.region,
            az=old.az,
            created_by="system",
            created_at=now,
            sync_status=SyncStatus.SYNCED,
            instance_id=old.instance_id,
            parent_instance_id=new.instance_id,
            launched_at=now,
            sync_started_at=now,
            ready_at=now,
            state_transfer_progress=Decimal(100),
        )
        await self._uow.replicas.add(replica)
        return replica

    async def _close_episode(
        self, agent: Agent, replica: Replica, new: Instance, episode: InterruptionEpisode | None, now: datetime
    ) -> list[DomainEvent]:
        """Step 6 (V9) and the second half of step 5 (the episode's other replica)."""
        if episode is None or not episode.is_open:
            return []
        episode_on(
            episode,
            EpisodeEvent.PROMOTED,
            now,
            new_instance_id=new.instance_id,
            promoted_replica_id=replica.replica_id,
            degraded=replica.degraded_promotion,
        )
        agent.last_failover_at = now
        other = await self._uow.replicas.get(agent.agent_id, episode.replica_id) if episode.replica_id else None
        if other is None or other == replica or not other.is_active:
            return []
        if other.kind is ReplicaKind.MANUAL:  # §3.6: a manual standby outlives the episode
            other.episode_id = None
            return []
        return await self._placement.retire_replica(agent, other, RetireReason.SIBLING_PROMOTED, now)

    async def _notices(
        self, agent: Agent, replica: Replica, old: Instance | None, episode: InterruptionEpisode | None, now: datetime
    ) -> list[DomainEvent]:
        """Step 9 (NT-1): ``replica_promoted``; ``failover_completed`` on the emergency path; N-terminate-instance (I7)."""
        emergency = episode is not None
        old_id = old.instance_id if old is not None else None
        role = str(old.kept_reason or old.role) if old is not None else None
        events = [replica_notices.replica_promoted(agent, replica, old_id, role, notify=not emergency)]
        if episode is not None and replica.instance_id is not None:
            events.append(
                replica_notices.failover_completed(
                    agent,
                    replica.instance_id,
                    replica.pool_id,
                    episode.failover_ms,
                    degraded=episode.degraded,
                    late=episode.late,
                )
            )
        if old is not None and old.kept_reason is KeptReason.TERMINATION_REQUESTED:
            price, _ = await self._placement.ledger.quote(old, now)
            where = notices.placement(old.mode, old.instance_type, old.az, old.pool_id)
            events.append(
                notices.terminate_instance_requested(agent, old.instance_id, where, "promotion", price.price, now)
            )
        return events

    async def _replaced_instance(
        self, agent: Agent, replica: Replica, episode: InterruptionEpisode | None
    ) -> Instance | None:
        """The primary the promotion replaced: the episode's instance, else the most recent earlier primary whose
        role changed in the promotion's transaction.
        """
        if episode is not None:
            return await self._uow.instances.get(agent.client_id, episode.instance_id)
        candidates = [
            (i.primary_since, i)
            for i in await self._uow.instances.list_for_agent(agent.agent_id)
            if i.instance_id != replica.instance_id
            and i.primary_since is not None
            and i.role_changed_at == replica.promoted_at
        ]
        return max(candidates, key=lambda pair: pair[0])[1] if candidates else None
