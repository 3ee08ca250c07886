"""R2: list an agent's replicas; ``status=launching`` exactly is the agent's replica launcher claiming work (L3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.access import lock_agent
from spotopt.domain.replicas.guards import is_claimable
from spotopt.domain.replicas.lifecycle import claim_launch
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.shared.ids import ClientId

LAUNCHER_FILTER = frozenset({ReplicaStatus.LAUNCHING})


@dataclass(frozen=True, slots=True, kw_only=True)
class ListReplicasQuery:
    client_id: ClientId
    agent_id: str
    statuses: frozenset[ReplicaStatus] | None = None
    include_terminated: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ListReplicasResult:
    replicas: Sequence[Replica]
    total: int
    now: datetime


class ListReplicas:
    """- Filter: ``statuses`` exactly (overrides ``include_terminated``); else all, or the live ones by default.
    - Newest ``created_at`` first, paged; ``total`` counts every match.
    - Launcher claim (L3, RP-10, W28-W30): with exactly ``launching`` only claimable launch requests (no instance
      id, fewer than 3 claims, lease expired or never claimed) are listed and each listed one is claimed for 180 s,
      under the agent lock (CC-3). Every other listing is a pure read.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, query: ListReplicasQuery) -> ListReplicasResult:
        now = self._clock.now()
        if query.statuses == LAUNCHER_FILTER:
            return await self._claim(query, now)
        agent = await self._uow.agents.get(query.client_id, query.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        statuses = query.statuses or (frozenset(ReplicaStatus) if query.include_terminated else NON_TERMINAL_REPLICA)
        page, total = await self._uow.replicas.page_for_agent(
            agent.agent_id, statuses, limit=query.limit, offset=query.offset
        )
        return ListReplicasResult(replicas=page, total=total, now=now)

    async def _claim(self, query: ListReplicasQuery, now: datetime) -> ListReplicasResult:
        agent = await lock_agent(self._uow, query.client_id, query.agent_id)
        claimable = [r for r in await self._uow.replicas.list_for_agent(agent.agent_id) if is_claimable(r, now)]
        claimable.sort(key=lambda r: r.replica_id)
        claimable.sort(key=lambda r: r.created_at, reverse=True)
        page = claimable[query.offset : query.offset + query.limit]
        for replica in page:
            claim_launch(replica, now)
        if page:
            agent.touch(now)  # CC-3: the claim changed replicas
            await self._uow.commit()
        return ListReplicasResult(replicas=page, total=len(claimable), now=now)
