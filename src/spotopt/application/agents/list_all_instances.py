"""M8: every client's instances, for the operator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spotopt.application.ports.admin_views import AdminFleetView, InstanceFilter, InstanceListing
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.shared.pools import Mode

# As C10: without a ``role`` filter the live roles are listed; ``all`` adds terminated instances.
DEFAULT_ROLES = frozenset({InstanceRole.PRIMARY, InstanceRole.STANDBY, InstanceRole.KEPT_OLD})


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAllInstancesQuery:
    client_id: str | None = None
    roles: frozenset[InstanceRole] = DEFAULT_ROLES
    mode: Mode | None = None
    region: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAllInstancesResult:
    instances: Sequence[InstanceListing]
    total: int


class ListAllInstances:
    """- Filters combine (AND); newest ``first_seen_at`` first; a pure read.
    - ``current_price`` / ``baseline``: what the instance's open ledger entry accrues at; null when unknown (MD-5).
    """

    def __init__(self, view: AdminFleetView) -> None:
        self._view = view

    async def execute(self, query: ListAllInstancesQuery) -> ListAllInstancesResult:
        flt = InstanceFilter(client_id=query.client_id, roles=query.roles, mode=query.mode, region=query.region)
        page, total = await self._view.instances(flt, limit=query.limit, offset=query.offset)
        return ListAllInstancesResult(instances=page, total=total)
