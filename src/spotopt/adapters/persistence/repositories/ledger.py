"""Ledger entries and the savings and growth snapshots (ports in ``application/ports/ledger.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from spotopt.adapters.persistence.mappers.ledger import CLIENT_GROWTH, LEDGER_ENTRIES, SAVINGS_DAILY, SAVINGS_MONTHLY
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.models.commands import SwitchModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.adapters.persistence.models.ledger import (
    ClientGrowthModel,
    LedgerEntryModel,
    SavingsDailyModel,
    SavingsMonthlyModel,
)
from spotopt.adapters.persistence.repositories.base import SqlAlchemyRepository, agent_refs
from spotopt.application.ports.agents import AgentRef
from spotopt.domain.clients.client import ClientStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import (
    ClientGrowthSnapshot,
    ClientLifetime,
    SavingsDailySnapshot,
    SavingsMonthlySnapshot,
    day_end,
    day_start,
)
from spotopt.domain.shared.ids import AgentId, ClientId


class SqlAlchemyLedgerRepository(SqlAlchemyRepository[LedgerEntry, LedgerEntryModel]):
    mapper = LEDGER_ENTRIES

    async def open_entry(self, client_id: ClientId, instance_id: str) -> LedgerEntry | None:
        e = LedgerEntryModel
        return await self._one(select(e).where(e.client_id == client_id, e.open_key == instance_id))

    async def save(self, entries: Sequence[LedgerEntry]) -> None:
        for entry in entries:
            self._db.add(LEDGER_ENTRIES, entry)  # a no-op for an entry already in the transaction

    async def open_entries_for_agent(self, agent_id: AgentId) -> Sequence[LedgerEntry]:
        e = LedgerEntryModel
        return await self._list(e.agent_id == agent_id, e.ended_at.is_(None), order_by=[e.instance_id.asc()])

    async def agents_with_open_entries(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        e = LedgerEntryModel
        stmt = select(e.client_id, e.agent_id).where(e.ended_at.is_(None))
        return await agent_refs(self._db, stmt, e.agent_id, limit, after)

    async def entries_for_day(self, client_id: ClientId, day: date) -> Sequence[LedgerEntry]:
        e = LedgerEntryModel
        start, end = day_start(day), day_end(day)
        closed_in_day = and_(e.ended_at.is_not(None), e.started_at >= start)
        return await self._list(
            e.client_id == client_id,
            e.started_at < end,
            or_(closed_in_day, e.ended_at.is_(None)),
            order_by=[e.started_at.asc(), e.entry_id.asc()],
        )


class SqlAlchemySnapshotRepository(SqlAlchemyRepository[SavingsDailySnapshot, SavingsDailyModel]):
    mapper = SAVINGS_DAILY

    async def list_daily(self, client_id: ClientId, first: date, last: date) -> Sequence[SavingsDailySnapshot]:
        d = SavingsDailyModel
        return await self._list(d.client_id == client_id, d.day >= first, d.day <= last, order_by=[d.day.asc()])

    async def add_daily(self, snapshot: SavingsDailySnapshot) -> None:
        self._db.add(SAVINGS_DAILY, snapshot)

    async def get_monthly(self, client_id: ClientId, year: int, month: int) -> SavingsMonthlySnapshot | None:
        m = SavingsMonthlyModel
        stmt = select(m).where(m.client_id == client_id, m.year == year, m.month == month)
        found: SavingsMonthlySnapshot | None = await self._db.one(SAVINGS_MONTHLY, stmt)
        return found

    async def add_monthly(self, snapshot: SavingsMonthlySnapshot) -> None:
        self._db.add(SAVINGS_MONTHLY, snapshot)

    async def list_growth(self, first: date, last: date) -> Sequence[ClientGrowthSnapshot]:
        g = ClientGrowthModel
        return await self._list(g.day >= first, g.day <= last, order_by=[g.day.asc()], mapper=CLIENT_GROWTH)

    async def add_growth(self, snapshot: ClientGrowthSnapshot) -> None:
        self._db.add(CLIENT_GROWTH, snapshot)

    async def client_lifetimes(self, limit: int, *, after: ClientId | None = None) -> Sequence[ClientLifetime]:
        c = ClientModel
        stmt = select(c.client_id, c.created_at, c.deleted_at).order_by(c.client_id).limit(limit)
        if after is not None:
            stmt = stmt.where(c.client_id > after)
        rows = (await self._db.execute(stmt)).all()
        return [ClientLifetime(ClientId(r.client_id), r.created_at, r.deleted_at) for r in rows]

    async def count_switches(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        s = SwitchModel
        return await self._count(s.client_id == client_id, *_within(s.received_at, start, end), model=SwitchModel)

    async def count_failovers(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        e = EpisodeModel
        failed_over = (e.client_id == client_id, e.state == EpisodeState.FAILED_OVER.value)
        return await self._count(*failed_over, *_within(e.closed_at, start, end), model=EpisodeModel)

    async def count_clients(self, *, existing_at: datetime) -> int:
        c = ClientModel
        alive = or_(c.deleted_at.is_(None), c.deleted_at >= existing_at)
        return await self._count(c.created_at < existing_at, alive, model=ClientModel)

    async def count_new_clients(self, start: datetime, end: datetime) -> int:
        return await self._count(*_within(ClientModel.created_at, start, end), model=ClientModel)

    async def count_active_clients(self) -> int:
        return await self._count(ClientModel.status == ClientStatus.ACTIVE.value, model=ClientModel)

    async def first_client_created_at(self) -> datetime | None:
        value: datetime | None = (await self._db.execute(select(func.min(ClientModel.created_at)))).scalar()
        return value


def _within(column: Any, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return column >= start, column < end
