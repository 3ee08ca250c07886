"""Stored decisions (DP-14, DP-15; port in ``application/ports/decisions.py``)."""

from __future__ import annotations

from sqlalchemy import select

from spotopt.adapters.persistence.mappers.decisions import DECISIONS
from spotopt.adapters.persistence.models.decisions import DecisionModel
from spotopt.adapters.persistence.repositories.base import SqlAlchemyRepository
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId


class SqlAlchemyDecisionRepository(SqlAlchemyRepository[Decision, DecisionModel]):
    """Decisions are immutable once stored; they are inserted when the unit of work flushes."""

    mapper = DECISIONS

    async def add(self, decision: Decision) -> None:
        if decision.decision_id is None:
            raise InvalidValueError("decision_id", "a stored decision needs its id")
        self._db.add(DECISIONS, decision)

    async def get(self, decision_id: str) -> Decision | None:
        return await self._one(select(DecisionModel).where(DecisionModel.decision_id == decision_id))

    async def latest_for_agent(self, agent_id: AgentId, *, trigger: Trigger | None = None) -> Decision | None:
        d = DecisionModel
        stmt = select(d).where(d.agent_id == agent_id)
        if trigger is not None:
            stmt = stmt.where(d.trigger == trigger.value)
        return await self._one(stmt.order_by(d.evaluated_at.desc(), d.decision_id.desc()).limit(1))
