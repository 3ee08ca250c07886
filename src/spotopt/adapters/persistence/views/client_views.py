"""``ClientViews`` over the request's session (port in ``application/ports/client_views.py``): read-only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.views.agents import AgentReads
from spotopt.adapters.persistence.views.fleet import FleetReads
from spotopt.adapters.persistence.views.history import HistoryReads


class SqlAlchemyClientViews(AgentReads, FleetReads, HistoryReads):
    def __init__(self, session: AsyncSession) -> None:
        self._db = SessionEntities(session)
