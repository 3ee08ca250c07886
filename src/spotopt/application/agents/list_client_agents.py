"""C3: the client's agents (A.2), newest first, paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spotopt.application.ports.client_views import FIRST_PAGE, AgentFilter, AgentView, ClientViews, PageRequest
from spotopt.application.ports.system import Clock
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientAgentsQuery:
    client_id: ClientId
    statuses: frozenset[DisplayStatus] | None = None
    include_deleted: bool = False
    page: PageRequest = FIRST_PAGE


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientAgentsResult:
    agents: Sequence[AgentView]
    total: int
    now: datetime


class ListClientAgents:
    """- Only the client's agents (CL-4); deleted ones only with ``include_deleted`` (§1.3).
    - ``statuses`` filters on the derived display status (§3.1); ``total`` counts every match before paging.
    - Newest ``created_at`` first, ties by id (§1.8). A pure read.
    """

    def __init__(self, views: ClientViews, clock: Clock) -> None:
        self._views = views
        self._clock = clock

    async def execute(self, query: ListClientAgentsQuery) -> ListClientAgentsResult:
        now = self._clock.now()
        where = AgentFilter(statuses=query.statuses, include_deleted=query.include_deleted)
        agents, total = await self._views.agents(query.client_id, where, query.page, now)
        return ListClientAgentsResult(agents=agents, total=total, now=now)
