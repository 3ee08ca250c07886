"""C2, C4 and C14 read models: decisions and pricing reports of the client's agents, and its final savings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.mappers.decisions import DECISIONS
from spotopt.adapters.persistence.mappers.pricing import REPORTS
from spotopt.adapters.persistence.models.agents import AgentModel
from spotopt.adapters.persistence.models.decisions import DecisionModel
from spotopt.adapters.persistence.models.ledger import SavingsDailyModel
from spotopt.adapters.persistence.models.pricing import PricingReportModel
from spotopt.application.ports.client_views import DecisionFilter, DecisionView, PageRequest
from spotopt.domain.pricing.market import PricingReport
from spotopt.domain.shared.ids import ClientId

a, d, p, s = AgentModel, DecisionModel, PricingReportModel, SavingsDailyModel


class HistoryReads:
    _db: SessionEntities

    async def final_savings_before(self, client_id: ClientId, day: date) -> Decimal:
        stmt = select(func.coalesce(func.sum(s.savings), 0)).where(
            s.client_id == client_id, s.final.is_(True), s.day < day
        )
        return Decimal((await self._db.execute(stmt)).scalar_one())

    async def decisions(
        self, client_id: ClientId, where: DecisionFilter, page: PageRequest
    ) -> tuple[Sequence[DecisionView], int]:
        filters: list[ColumnElement[bool]] = [a.client_id == client_id, d.evaluated_at >= where.since]
        if where.agent_id is not None:
            filters.append(d.agent_id == where.agent_id)
        if where.triggers:
            filters.append(d.trigger.in_(sorted(where.triggers)))
        if where.actions:
            filters.append(d.action.in_(sorted(where.actions)))
        joined = select(func.count()).select_from(d).join(a, a.agent_id == d.agent_id)
        total = (await self._db.execute(joined.where(*filters))).scalar_one()
        if total == 0 or page.offset >= total:
            return [], total
        stmt = (
            select(d, a.logical_agent_id)
            .join(a, a.agent_id == d.agent_id)
            .where(*filters)
            .order_by(d.evaluated_at.desc(), d.decision_id.asc())
            .limit(page.limit)
            .offset(page.offset)
        )
        rows: Sequence[Any] = (await self._db.execute(stmt)).all()
        views = [DecisionView(decision=self._db.load(DECISIONS, row[0]), logical_agent_id=row[1]) for row in rows]
        return views, total

    async def pricing_reports(
        self, client_id: ClientId, since: datetime, agent_id: str | None, page: PageRequest
    ) -> tuple[Sequence[PricingReport], int]:
        filters: list[ColumnElement[bool]] = [p.client_id == client_id, p.received_at >= since]
        if agent_id is not None:
            filters.append(p.agent_id == agent_id)
        total = (await self._db.execute(select(func.count()).select_from(p).where(and_(*filters)))).scalar_one()
        if total == 0 or page.offset >= total:
            return [], total
        stmt = (
            select(p)
            .where(*filters)
            .order_by(p.received_at.desc(), p.report_id.asc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return [self._db.load(REPORTS, m) for m in (await self._db.execute(stmt)).scalars()], total
