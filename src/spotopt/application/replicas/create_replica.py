"""R1: request a manual standby (launch request, L1) or register one the agent launched itself (L2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from spotopt.application.errors import ConflictError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.access import lock_agent
from spotopt.application.replicas.failover import Failover
from spotopt.application.replicas.supply import ReplicaSupply
from spotopt.domain.agents.agent import Agent
from spotopt.domain.interruptions.emergency import replacement_allowed, secure_replica
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.replicas import notices as replica_notices
from spotopt.domain.replicas.lifecycle import attach_instance
from spotopt.domain.replicas.pool_selection import select_standby_pool
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.errors import InvalidValueError, SettingDisabledError
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import ClientId, InstanceId, instance_id

AGENT = "agent"
CLIENT = "client"
CREATED_BY_LABEL = "created_by_label"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateReplicaCommand:
    client_id: ClientId
    agent_id: str
    instance_id: str | None = None  # present: the register form (L2)
    replica_type: ReplicaKind = ReplicaKind.MANUAL
    pool_id: str | None = None
    status: ReplicaStatus | None = None
    tags: dict[str, object] = field(default_factory=dict)
    exclude_zones: tuple[str, ...] = ()
    max_hourly_cost: Decimal | None = None
    created_by_label: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateReplicaResult:
    replica: Replica
    created: bool
    now: datetime


class CreateReplica:
    """- Register form (L2): IN-5 id; the agent's replica with that id again → the same replica (``created`` false);
      pool of the primary's type and region, not its pool (``pool_mismatch``); an id of another instance of the
      client → ``instance_in_use``, an unattached sighting is attached; RP-5/RP-6 else ``replica_not_allowed``;
      status ``ready`` = L2 then L7 (and a ``terminating`` episode is failed over in the same transaction).
    - Request form (L1): manual-replica mode (403 ``setting_disabled``), no live replica (``replica_exists``), the
      requested pool (``pool_mismatch`` / ``pool_unavailable``) or the U1 choice (``no_eligible_pool``).
    - The agent row is locked first (CC-3); one commit.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, supply: ReplicaSupply, failover: Failover) -> None:
        self._uow = uow
        self._clock = clock
        self._supply = supply
        self._failover = failover

    async def execute(self, command: CreateReplicaCommand) -> CreateReplicaResult:
        agent = await lock_agent(self._uow, command.client_id, command.agent_id)
        now = self._clock.now()
        if command.instance_id is not None:
            replica, created, events = await self._register(agent, command, instance_id(command.instance_id), now)
        else:
            replica, events = await self._request(agent, command, now)
            created = True
        if created:
            agent.touch(now)
            await record_events(self._uow, events, now)
            await self._uow.commit()
        return CreateReplicaResult(replica=replica, created=created, now=now)

    async def _register(
        self, agent: Agent, command: CreateReplicaCommand, iid: InstanceId, now: datetime
    ) -> tuple[Replica, bool, list[DomainEvent]]:
        known = await self._uow.replicas.find_by_instance(agent.agent_id, iid)
        if known is not None:
            return known, False, []
        if command.pool_id is None:
            raise InvalidValueError("pool_id", "is required with instance_id")
        pool = await self._supply.pools.target(agent, command.pool_id, now, require_available=False)
        if not await self._supply.instance_is_free(agent, iid):
            raise ConflictError("The instance id belongs to another instance of the client", code="instance_in_use")
        episode = await self._allowed_episode(agent)
        replica = self._supply.new_replica(agent, pool.pool_id, command.replica_type, AGENT, now, tags=command.tags)
        replica.hourly_price_at_creation = await self._supply.price_at(replica, now)
        ready = command.status is ReplicaStatus.READY
        attach_instance(replica, iid, ReplicaStatus.READY if ready else ReplicaStatus.SYNCING, now=now)
        await self._uow.replicas.add(replica)
        await self._supply.host(agent, replica, iid, now)
        if episode is not None:
            replica.episode_id = episode.episode_id
            secure_replica(episode, replica.replica_id, now, replacement=episode.replica_id is not None)
        events = [replica_notices.replica_created(agent, replica)]
        if ready:
            events.append(replica_notices.replica_ready(agent, replica, now))
            promotion = await self._failover.after_ready(agent, now)  # L7
            events += promotion.events if promotion is not None else ()
        return replica, True, events

    async def _allowed_episode(self, agent: Agent) -> InterruptionEpisode | None:
        """RP-5/RP-6 for an agent-launched replica: manual-replica mode without a live replica, or an open episode
        without one and with a replacement left (the replica then serves it); the episode to attach to, if any.
        """
        live = list(await self._uow.replicas.list_for_agent(agent.agent_id))
        episodes = list(await self._uow.episodes.find_open(agent.agent_id))
        taken = {r.episode_id for r in live}
        waiting = [e for e in episodes if e.episode_id not in taken]
        # RP-6: after its replica ended an episode takes at most 2 replacements, agent-launched ones included.
        free = next((e for e in waiting if e.replica_id is None or replacement_allowed(e)), None)
        if agent.manual_replica_enabled and not live:
            return free
        if not agent.manual_replica_enabled and free is not None:
            return free
        if agent.manual_replica_enabled:
            reason = "standby_exists"
        elif waiting:
            reason = "replacement_limit_reached"
        else:
            reason = "episode_has_replica" if episodes else "no_open_episode"
        raise ConflictError("A replica is not allowed now (RP-5, RP-6)", code="replica_not_allowed", reason=reason)

    async def _request(
        self, agent: Agent, command: CreateReplicaCommand, now: datetime
    ) -> tuple[Replica, list[DomainEvent]]:
        if not agent.manual_replica_enabled:
            raise SettingDisabledError("Manual replicas need manual-replica mode", setting="manual_replica_enabled")
        live = list(await self._uow.replicas.list_for_agent(agent.agent_id))
        if live:
            raise ConflictError("The agent already has a replica", code="replica_exists", replica_id=live[0].replica_id)
        if command.pool_id is not None:
            pool = await self._supply.pools.target(agent, command.pool_id, now, require_available=True)
        else:
            chosen = select_standby_pool(
                await self._supply.pools.candidates(agent.instance_type, agent.region, now),
                primary_pool_id=agent.pool_id,
                instance_type=agent.instance_type or "",
                region=agent.region or "",
                risk_threshold=agent.thresholds.risk_threshold,
                exclude_zones=command.exclude_zones,
                max_hourly_cost=command.max_hourly_cost,
            )
            if chosen is None:
                raise ConflictError("No pool can host a standby", code="no_eligible_pool")
            pool = chosen
        tags = dict(command.tags)
        if command.created_by_label:
            tags[CREATED_BY_LABEL] = command.created_by_label
        replica, created = await self._supply.launch_request(agent, pool, ReplicaKind.MANUAL, CLIENT, now, tags=tags)
        return replica, [created]
