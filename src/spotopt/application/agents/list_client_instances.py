"""C10: the client's instances (A.3) by role, newest first, paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.client_views import FIRST_PAGE, ClientViews, InstanceFilter, InstanceView, PageRequest
from spotopt.domain.agents.values import InstanceRole, KeptReason
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode

LIVE_ROLES = frozenset({InstanceRole.PRIMARY, InstanceRole.STANDBY, InstanceRole.KEPT_OLD})


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientInstancesQuery:
    client_id: ClientId
    roles: frozenset[InstanceRole] = LIVE_ROLES
    kept_reasons: frozenset[KeptReason] | None = None
    mode: Mode | None = None
    agent_id: str | None = None
    page: PageRequest = FIRST_PAGE


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientInstancesResult:
    instances: Sequence[InstanceView]
    total: int


class ListClientInstances:
    """- Only the client's instances (IN-1, CL-4); an ``agent_id`` filter naming no agent of the client → 404.
    - Default roles: ``primary``, ``standby``, ``kept_old``; newest ``first_seen_at`` first, ties by id. A pure read.
    """

    def __init__(self, views: ClientViews) -> None:
        self._views = views

    async def execute(self, query: ListClientInstancesQuery) -> ListClientInstancesResult:
        if query.agent_id is not None and not await self._views.owns_agent(query.client_id, query.agent_id):
            raise NotFoundError("Agent not found")
        where = InstanceFilter(
            roles=query.roles, kept_reasons=query.kept_reasons, mode=query.mode, agent_id=query.agent_id
        )
        instances, total = await self._views.instances(query.client_id, where, query.page)
        return ListClientInstancesResult(instances=instances, total=total)
