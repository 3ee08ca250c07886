"""C17: the client's replicas (A.4 + ``logical_agent_id``), newest first, paged; never a launcher claim."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.client_views import FIRST_PAGE, ClientViews, PageRequest, ReplicaFilter, ReplicaView
from spotopt.application.ports.system import Clock
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientReplicasQuery:
    client_id: ClientId
    statuses: frozenset[ReplicaStatus] = NON_TERMINAL_REPLICA
    agent_id: str | None = None
    page: PageRequest = FIRST_PAGE


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientReplicasResult:
    replicas: Sequence[ReplicaView]
    total: int
    now: datetime


class ListClientReplicas:
    """- Only the client's replicas (RP-8, CL-4); an ``agent_id`` naming no agent of the client → 404.
    - Default statuses ``launching,syncing,ready``; newest ``created_at`` first, ties by id.
    - A pure read: unlike R2's ``status=launching`` it claims nothing (RP-10).
    """

    def __init__(self, views: ClientViews, clock: Clock) -> None:
        self._views = views
        self._clock = clock

    async def execute(self, query: ListClientReplicasQuery) -> ListClientReplicasResult:
        if query.agent_id is not None and not await self._views.owns_agent(query.client_id, query.agent_id):
            raise NotFoundError("Agent not found")
        where = ReplicaFilter(statuses=query.statuses, agent_id=query.agent_id)
        replicas, total = await self._views.replicas(query.client_id, where, query.page)
        return ListClientReplicasResult(replicas=replicas, total=total, now=self._clock.now())
