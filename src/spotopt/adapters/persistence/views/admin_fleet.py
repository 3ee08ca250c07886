"""M8 / M9 read models: every client's agents and instances, one indexed page query each plus one for the page's
replicas (no N+1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.mappers.agents import AGENTS, INSTANCES
from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.models.ledger import LedgerEntryModel
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.adapters.persistence.views.admin_status import display_status_expr
from spotopt.application.ports.admin_views import AgentFilter, AgentListing, InstanceFilter, InstanceListing
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.agents.values import Lifecycle
from spotopt.domain.replicas.current import ReplicaBrief
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus

A, N, C, L, R = AgentModel, InstanceModel, ClientModel, LedgerEntryModel, ReplicaModel


class SqlAlchemyAdminFleetView:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def agents(self, flt: AgentFilter, *, limit: int, offset: int) -> tuple[Sequence[AgentListing], int]:
        status = display_status_expr()
        where: list[Any] = []
        if flt.client_id is not None:
            where.append(A.client_id == flt.client_id)
        if not flt.include_deleted:
            where.append(A.lifecycle == Lifecycle.ACTIVE.value)
        if flt.statuses:
            where.append(status.in_(sorted(s.value for s in flt.statuses)))
        total = await self._count(select(func.count()).select_from(A).where(*where))
        page = (
            select(A, C.name, status)
            .join(C, C.client_id == A.client_id)
            .where(*where)
            # DESC puts never-seen (NULL) agents last on SQLite and MariaDB alike.
            .order_by(A.last_heartbeat_at.desc(), A.agent_id.asc())
            .limit(limit)
            .offset(offset)
        )
        rows = (await self._session.execute(page)).all()
        replicas = await self._live_replicas([row[0].agent_id for row in rows])
        listings = [
            AgentListing(
                agent=AGENTS.to_domain(model),
                client_name=name,
                status=DisplayStatus(shown),
                replicas=replicas.get(model.agent_id, ()),
            )
            for model, name, shown in rows
        ]
        return listings, total

    async def instances(self, flt: InstanceFilter, *, limit: int, offset: int) -> tuple[Sequence[InstanceListing], int]:
        where: list[Any] = []
        if flt.client_id is not None:
            where.append(N.client_id == flt.client_id)
        if flt.roles:
            where.append(N.role.in_(sorted(r.value for r in flt.roles)))
        if flt.mode is not None:
            where.append(N.mode == flt.mode.value)
        if flt.region is not None:
            where.append(N.region == flt.region)
        total = await self._count(select(func.count()).select_from(N).where(*where))
        page = (
            select(N, C.name, A.logical_agent_id, L.price, L.baseline)
            .join(A, and_(A.client_id == N.client_id, A.agent_id == N.agent_id))
            .join(C, C.client_id == N.client_id)
            # IN-8: at most one open entry per instance, found by the unique (client_id, open_key).
            .outerjoin(L, and_(L.client_id == N.client_id, L.open_key == N.instance_id))
            .where(*where)
            .order_by(N.first_seen_at.desc(), N.instance_id.asc())
            .limit(limit)
            .offset(offset)
        )
        rows = (await self._session.execute(page)).all()
        listings = [
            InstanceListing(
                instance=INSTANCES.to_domain(model),
                client_name=name,
                logical_agent_id=logical,
                current_price=price,
                baseline=baseline,
            )
            for model, name, logical, price, baseline in rows
        ]
        return listings, total

    async def _live_replicas(self, agent_ids: list[str]) -> dict[str, list[ReplicaBrief]]:
        if not agent_ids:
            return {}
        stmt = select(R.agent_id, R.replica_id, R.status, R.created_at).where(
            R.agent_id.in_(agent_ids), R.status.in_(sorted(s.value for s in NON_TERMINAL_REPLICA))
        )
        found: dict[str, list[ReplicaBrief]] = {}
        for agent_id, replica_id, status, created_at in (await self._session.execute(stmt)).all():
            brief = ReplicaBrief(replica_id=replica_id, status=ReplicaStatus(status), created_at=created_at)
            found.setdefault(agent_id, []).append(brief)
        return found

    async def _count(self, stmt: Any) -> int:
        return int((await self._session.execute(stmt)).scalar_one())
