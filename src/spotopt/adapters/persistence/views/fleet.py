"""C10, C11 – C15 and C17 read models: the client's instances and replicas, one page in two statements.

An instance's ``current_price`` is the price of its open ledger entry (the price in effect the ledger accrues at,
LG-1/IN-8) and its ``baseline`` the on-demand catalogue price of its type and region (PR-27); both come from the
page's own statement through outer joins on unique keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.mappers.agents import INSTANCES
from spotopt.adapters.persistence.mappers.replicas import REPLICAS
from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel
from spotopt.adapters.persistence.models.ledger import LedgerEntryModel
from spotopt.adapters.persistence.models.pricing import OnDemandPriceModel
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.adapters.persistence.repositories.base import RowsSelect
from spotopt.application.ports.client_views import InstanceFilter, InstanceView, PageRequest, ReplicaFilter, ReplicaView
from spotopt.domain.shared.ids import ClientId

a, i, r = AgentModel, InstanceModel, ReplicaModel
led, od = LedgerEntryModel, OnDemandPriceModel


def _instance_select() -> RowsSelect:
    return (
        select(i, a.logical_agent_id, led.price, od.price)
        .join(a, and_(a.client_id == i.client_id, a.agent_id == i.agent_id))
        .outerjoin(led, and_(led.client_id == i.client_id, led.open_key == i.instance_id))
        .outerjoin(od, and_(od.instance_type == i.instance_type, od.region == i.region))
    )


class FleetReads:
    _db: SessionEntities

    def _instance_view(self, row: Any) -> InstanceView:
        return InstanceView(
            instance=self._db.load(INSTANCES, row[0]), logical_agent_id=row[1], current_price=row[2], baseline=row[3]
        )

    async def instances(
        self, client_id: ClientId, where: InstanceFilter, page: PageRequest
    ) -> tuple[Sequence[InstanceView], int]:
        filters: list[ColumnElement[bool]] = [i.client_id == client_id, i.role.in_(sorted(where.roles))]
        if where.kept_reasons:
            filters.append(i.kept_reason.in_(sorted(where.kept_reasons)))
        if where.mode is not None:
            filters.append(i.mode == where.mode.value)
        if where.agent_id is not None:
            filters.append(i.agent_id == where.agent_id)
        total = (await self._db.execute(select(func.count()).select_from(i).where(*filters))).scalar_one()
        if total == 0 or page.offset >= total:
            return [], total
        stmt = (
            _instance_select()
            .where(*filters)
            .order_by(i.first_seen_at.desc(), i.instance_id.asc())
            .limit(page.limit)
            .offset(page.offset)
        )
        rows: Sequence[Any] = (await self._db.execute(stmt)).all()
        return [self._instance_view(row) for row in rows], total

    async def instance(self, client_id: ClientId, instance_id: str) -> InstanceView | None:
        stmt = _instance_select().where(i.client_id == client_id, i.instance_id == instance_id)
        row = (await self._db.execute(stmt)).first()
        return None if row is None else self._instance_view(row)

    async def replicas(
        self, client_id: ClientId, where: ReplicaFilter, page: PageRequest
    ) -> tuple[Sequence[ReplicaView], int]:
        filters: list[ColumnElement[bool]] = [r.client_id == client_id, r.status.in_(sorted(where.statuses))]
        if where.agent_id is not None:
            filters.append(r.agent_id == where.agent_id)
        total = (await self._db.execute(select(func.count()).select_from(r).where(*filters))).scalar_one()
        if total == 0 or page.offset >= total:
            return [], total
        stmt = (
            select(r, a.logical_agent_id)
            .join(a, and_(a.client_id == r.client_id, a.agent_id == r.agent_id))
            .where(*filters)
            .order_by(r.created_at.desc(), r.replica_id.asc())
            .limit(page.limit)
            .offset(page.offset)
        )
        rows: Sequence[Any] = (await self._db.execute(stmt)).all()
        return [ReplicaView(replica=self._db.load(REPLICAS, row[0]), logical_agent_id=row[1]) for row in rows], total
