"""M9: every client's agents, for the operator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spotopt.application.ports.admin_views import AdminFleetView, AgentFilter
from spotopt.application.ports.system import Clock
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.replicas.current import current_replica, live_replicas


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAllAgentsQuery:
    client_id: str | None = None
    statuses: frozenset[DisplayStatus] = frozenset()
    include_deleted: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSummary:
    agent: Agent
    client_name: str
    status: DisplayStatus
    replica_count: int
    current_replica_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAllAgentsResult:
    agents: Sequence[AgentSummary]
    total: int
    now: datetime


class ListAllAgents:
    """- All clients (or one ``client_id``); deleted agents only with ``include_deleted`` (or status ``deleted``).
    - ``statuses`` filters on the derived display status (domain §3.1).
    - Newest ``last_heartbeat_at`` first, never-seen agents last; a pure read.
    """

    def __init__(self, view: AdminFleetView, clock: Clock) -> None:
        self._view = view
        self._clock = clock

    async def execute(self, query: ListAllAgentsQuery) -> ListAllAgentsResult:
        include_deleted = query.include_deleted or DisplayStatus.DELETED in query.statuses
        flt = AgentFilter(client_id=query.client_id, statuses=query.statuses, include_deleted=include_deleted)
        page, total = await self._view.agents(flt, limit=query.limit, offset=query.offset)
        summaries = []
        for row in page:
            current = current_replica(row.replicas)
            summaries.append(
                AgentSummary(
                    agent=row.agent,
                    client_name=row.client_name,
                    status=row.status,
                    replica_count=len(live_replicas(row.replicas)),
                    current_replica_id=current.replica_id if current else None,
                )
            )
        return ListAllAgentsResult(agents=summaries, total=total, now=self._clock.now())
