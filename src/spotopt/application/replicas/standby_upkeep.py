"""Manual-replica upkeep inside the replica coordinator (domain §7.2 U1-U5, RP-5, RP-7).

An application service: runs in the coordinator's transaction for one agent, agent locked (CC-4).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from spotopt.application.agents.config_view import current_replica
from spotopt.application.agents.placement import Placement
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.supply import ReplicaSupply
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import primary_is_live
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas import notices as replica_notices
from spotopt.domain.replicas.lifecycle import RetireReason
from spotopt.domain.replicas.pool_selection import select_standby_pool
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import EpisodeId

COORDINATOR = "coordinator"
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 30))  # U4


def backoff_until(history: Sequence[Replica]) -> datetime | None:
    """U4: after n consecutive failed manual standbys wait 1, 2, 4, 8, 16, 30 min (cap) from the last failure;
    a standby that reached ``ready`` resets the count. None when nothing holds U1 back.
    """
    failures: list[datetime] = []
    manual = sorted((r for r in history if r.kind is ReplicaKind.MANUAL), key=lambda r: r.created_at, reverse=True)
    for replica in manual:
        if replica.ready_at is not None:
            break
        if replica.status is ReplicaStatus.FAILED and replica.failed_at is not None:
            failures.append(replica.failed_at)
    if not failures:
        return None
    return max(failures) + BACKOFF[min(len(failures), len(BACKOFF)) - 1]


class StandbyUpkeep:
    """- Only for enabled, manual-replica agents with a live primary (C-7) and no ``terminating`` episode.
    - U3: a standby in the primary's pool is retired (``pool_conflict``); U2: of several replicas not attached to an
      open episode the most promotable is kept (``extra``); RP-7 spares episode replicas.
    - U1 (and U5 after a promotion): with no live replica, once the U4 back-off has elapsed and nothing was retired
      in this tick, one launch request in the U1 pool (``created_by=coordinator``); no pool → N-no-standby-pool
      (once a day). Never creates while a live replica exists (no churn).
    """

    def __init__(self, uow: UnitOfWork, placement: Placement, supply: ReplicaSupply, timings: AgentTimings) -> None:
        self._uow = uow
        self._placement = placement
        self._supply = supply
        self._heartbeat_timeout = timings.heartbeat_timeout

    async def run(self, agent: Agent, now: datetime, *, may_create: bool) -> tuple[list[DomainEvent], bool]:
        """Returns the events and whether a replica was created."""
        if not await self._applies(agent, now):
            return [], False
        open_ids = {e.episode_id for e in await self._uow.episodes.find_open(agent.agent_id)}
        live = list(await self._uow.replicas.list_for_agent(agent.agent_id))
        events = await self._tidy(agent, live, open_ids, now)
        if events or any(r.is_active for r in live) or not may_create:
            return events, False
        history = await self._uow.replicas.list_for_agent(agent.agent_id, include_terminal=True)
        held_until = backoff_until(history)
        if held_until is not None and now < held_until:
            return events, False
        return await self._create(agent, now)

    async def _applies(self, agent: Agent, now: datetime) -> bool:
        if not (agent.manual_replica_enabled and agent.enabled and not agent.is_deleted):
            return False
        episodes = await self._uow.episodes.find_open(agent.agent_id)
        if any(e.state is EpisodeState.TERMINATING for e in episodes):
            return False
        deadlines = [e.deadline for e in episodes if e.deadline is not None]
        deadline = min(deadlines, default=None)
        return primary_is_live(agent, deadline, now, heartbeat_timeout_seconds=self._heartbeat_timeout)

    async def _tidy(
        self, agent: Agent, live: list[Replica], open_ids: set[EpisodeId], now: datetime
    ) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        free = [r for r in live if r.episode_id not in open_ids]
        for replica in [r for r in free if r.pool_id == agent.pool_id]:  # U3
            events += await self._placement.retire_replica(agent, replica, RetireReason.POOL_CONFLICT, now)
        free = [r for r in free if r.is_active]
        keep = current_replica(free)
        for replica in [r for r in free if r != keep]:  # U2
            events += await self._placement.retire_replica(agent, replica, RetireReason.EXTRA, now)
        return events

    async def _create(self, agent: Agent, now: datetime) -> tuple[list[DomainEvent], bool]:
        pool = select_standby_pool(
            await self._supply.pools.candidates(agent.instance_type, agent.region, now),
            primary_pool_id=agent.pool_id,
            instance_type=agent.instance_type or "",
            region=agent.region or "",
            risk_threshold=agent.thresholds.risk_threshold,
        )
        if pool is None:
            notice = replica_notices.no_standby_pool(agent, now)
            spec = notice.notification
            if spec is not None and await self._uow.events.notification_exists(agent.client_id, spec.dedup_key):
                return [], False  # once a day (NT-4), and no system event every tick either
            return [notice], False
        _, created = await self._supply.launch_request(agent, pool, ReplicaKind.MANUAL, COORDINATOR, now)
        return [created], True
