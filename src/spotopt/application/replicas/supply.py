"""Getting replicas into existence: launch requests (L1), standby instances (I2), the episode's replica (§3.7.1)
and the emergency on-demand fallback (§3.7.2 step 4).

An application service (house style §7): every method runs in the caller's transaction under its agent lock.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from spotopt.application.agents.config_view import current_replica
from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.pools import ReplicaPools
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch_planning import make_switch_command, plan_switch
from spotopt.domain.commands.values import CommandOrigin
from spotopt.domain.interruptions.emergency import replacement_allowed, secure_replica
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.replicas import notices as replica_notices
from spotopt.domain.replicas.pool_selection import PoolCandidate, select_emergency_pool
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.errors import RuleConflictError
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import InstanceId, ReplicaId, new_id
from spotopt.domain.shared.pools import Mode, PoolId

SYSTEM = "system"
FALLBACK_REASON = "emergency on-demand fallback"


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolHints:
    """§3.7.1 selection hints of a signal request (R8): preferred pool and zones, excluded zones."""

    preferred_pool_id: str | None = None
    preferred_zones: tuple[str, ...] = ()
    exclude_zones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ensured:
    """§3.7.1 outcome: the episode's replica (None when none exists or can be created) and whether it is new."""

    replica: Replica | None
    created: bool = False
    events: list[DomainEvent] = field(default_factory=list)


class ReplicaSupply:
    def __init__(self, uow: UnitOfWork, pools: ReplicaPools, ledger: LedgerBook) -> None:
        self._uow = uow
        self._pools = pools
        self._ledger = ledger

    @property
    def pools(self) -> ReplicaPools:
        return self._pools

    async def launch_request(
        self,
        agent: Agent,
        pool: PoolCandidate,
        kind: ReplicaKind,
        created_by: str,
        now: datetime,
        *,
        tags: dict[str, object] | None = None,
    ) -> tuple[Replica, DomainEvent]:
        """L1: a ``launching`` replica without instance id, for the launcher to claim (RP-10)."""
        replica = self.new_replica(agent, pool.pool_id, kind, created_by, now, tags=tags)
        replica.hourly_price_at_creation = await self.price_at(replica, now)
        await self._uow.replicas.add(replica)
        return replica, replica_notices.replica_created(agent, replica)

    def new_replica(
        self,
        agent: Agent,
        pool_id: str,
        kind: ReplicaKind,
        created_by: str,
        now: datetime,
        *,
        tags: dict[str, object] | None = None,
    ) -> Replica:
        """RP-1: type and region of the primary at creation, never its pool (the caller chose the pool)."""
        pool = PoolId.parse(pool_id)
        return Replica(
            replica_id=ReplicaId(new_id()),
            client_id=agent.client_id,
            agent_id=agent.agent_id,
            kind=kind,
            status=ReplicaStatus.LAUNCHING,
            pool_id=str(pool),
            instance_type=pool.instance_type,
            region=pool.region,
            az=pool.az,
            created_by=created_by,
            created_at=now,
            parent_instance_id=agent.primary_instance_id,
            tags=dict(tags or {}),
        )

    async def price_at(self, replica: Replica, now: datetime) -> Decimal | None:
        """Information only (the ledger prices the replica): the pool's price in effect at creation."""
        price, _ = await self._ledger.price_of(Mode.SPOT, replica.pool_id, replica.instance_type, replica.region, now)
        return price.price

    async def host(self, agent: Agent, replica: Replica, instance_id: InstanceId, now: datetime) -> Instance:
        """I2: the replica's instance becomes a ``standby`` with an open ledger entry; a sighting is attached (R-7).

        The caller has checked that no instance of the client has this id (IN-1).
        """
        sighting = await self._uow.sightings.get(agent.client_id, instance_id)
        if sighting is not None:
            await self._uow.sightings.delete(sighting)
        instance = Instance(
            client_id=agent.client_id,
            instance_id=instance_id,
            agent_id=agent.agent_id,
            role=InstanceRole.STANDBY,
            origin=InstanceOrigin.REPLICA,
            instance_type=replica.instance_type,
            region=replica.region,
            az=replica.az,
            mode=Mode.SPOT,
            first_seen_at=min(sighting.first_seen_at, now) if sighting is not None else now,
            role_changed_at=now,
            launched_at=now,
            last_seen_at=now,
        )
        await self._uow.instances.add(instance)
        await self._ledger.open(instance, now, now)
        return instance

    async def instance_is_free(self, agent: Agent, instance_id: str) -> bool:
        """IN-1/L2/L4: the id names no instance of the client yet (an unattached sighting does not count)."""
        return await self._uow.instances.get(agent.client_id, instance_id) is None

    async def ensure_for_episode(
        self, agent: Agent, episode: InterruptionEpisode, kind: ReplicaKind, now: datetime, hints: PoolHints
    ) -> Ensured:
        """§3.7.1: reuse the episode's replica (RP-6), else attach a live replica, else create a launch request
        (a replacement when an earlier one ended, at most 2, RP-6) in the emergency pool; None when none is possible.
        """
        own = await self._uow.replicas.get(agent.agent_id, episode.replica_id) if episode.replica_id else None
        if own is not None and own.is_active:
            return Ensured(replica=own)
        spare = current_replica([r for r in await self._uow.replicas.list_for_agent(agent.agent_id) if r != own])
        if spare is not None:
            spare.episode_id = episode.episode_id
            secure_replica(episode, spare.replica_id, now, replacement=False)
            return Ensured(replica=spare)
        replacement = own is not None
        if replacement and not replacement_allowed(episode):
            return Ensured(replica=None)
        failed = (own.pool_id,) if own is not None else ()  # RP-6: the replacement tries another pool first
        pool = await self.emergency_pool(agent, now, hints, failed_pool_ids=failed)
        if pool is None:
            return Ensured(replica=None)
        replica, created = await self.launch_request(agent, pool, kind, SYSTEM, now)
        replica.episode_id = episode.episode_id
        secure_replica(episode, replica.replica_id, now, replacement=replacement)
        return Ensured(replica=replica, created=True, events=[created])

    async def emergency_pool(
        self, agent: Agent, now: datetime, hints: PoolHints, failed_pool_ids: Collection[str] = ()
    ) -> PoolCandidate | None:
        """§3.7.1 emergency pool selection (never the primary's pool; blocklisted only as a last resort)."""
        if agent.instance_type is None or agent.region is None:
            return None
        return select_emergency_pool(
            await self._pools.candidates(agent.instance_type, agent.region, now),
            primary_pool_id=agent.pool_id,
            instance_type=agent.instance_type,
            region=agent.region,
            risk_threshold=agent.thresholds.risk_threshold,
            exclude_zones=hints.exclude_zones,
            preferred_zones=hints.preferred_zones,
            preferred_pool_id=hints.preferred_pool_id,
            failed_pool_ids=failed_pool_ids,
        )

    async def queue_fallback(
        self, agent: Agent, episode: InterruptionEpisode, now: datetime
    ) -> tuple[AgentCommand | None, list[DomainEvent]]:
        """§3.7.2 step 4: the emergency switch to on-demand (priority 100, wait 0, expires at deadline + 60 s),
        recorded as the episode's ``fallback_command_id``; idempotent per episode (CM-7).
        """
        key = f"fallback:{episode.episode_id}"
        existing = await self._uow.commands.find_by_idempotency_key(agent.agent_id, key)
        if existing is not None:
            episode.fallback_command_id = existing.command_id
            return existing, []
        command = _fallback_command(agent, episode, key, now)
        try:
            plan = plan_switch(
                await self._uow.commands.list_for_agent(agent.agent_id),
                command,
                current_mode=agent.mode,
                current_pool_id=agent.pool_id,
            )
        except RuleConflictError:  # already on on-demand: nothing to fall back to
            return None, []
        await self._uow.commands.add(plan.command)
        episode.fallback_command_id = plan.command.command_id
        return plan.command, [
            replica_notices.ondemand_fallback_queued(agent, plan.command.command_id, episode.episode_id)
        ]


def _fallback_command(agent: Agent, episode: InterruptionEpisode, key: str, now: datetime) -> AgentCommand:
    return make_switch_command(
        agent,
        origin=CommandOrigin.EMERGENCY,
        target_mode=Mode.ONDEMAND,
        target_pool_id=None,
        now=now,
        motive="emergency",
        reason=FALLBACK_REASON,
        episode_id=episode.episode_id,
        idempotency_key=key,
        deadline=episode.deadline or now,
    )
