"""SQLAlchemy snapshot repository (§5.4): savings and client-growth snapshots and the counts they need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select

from spotopt.adapters.persistence import tables as t
from spotopt.adapters.persistence.repositories import _Base
from spotopt.domain.clients.client import ClientStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.snapshots import (
    ClientGrowthSnapshot,
    ClientLifetime,
    SavingsDailySnapshot,
    SavingsMonthlySnapshot,
)
from spotopt.domain.shared.ids import ClientId


class SqlAlchemySnapshotRepository(_Base):
    async def list_daily(self, client_id: ClientId, first: date, last: date) -> Sequence[SavingsDailySnapshot]:
        c = t.savings_daily.c
        stmt = select(t.savings_daily).where(c.client_id == client_id, c.day >= first, c.day <= last)
        return await self._many(SavingsDailySnapshot, stmt.order_by(c.day))

    async def add_daily(self, snapshot: SavingsDailySnapshot) -> None:
        self._add(snapshot)

    async def get_monthly(self, client_id: ClientId, year: int, month: int) -> SavingsMonthlySnapshot | None:
        c = t.savings_monthly.c
        stmt = select(t.savings_monthly).where(c.client_id == client_id, c.year == year, c.month == month)
        return await self._one(SavingsMonthlySnapshot, stmt)

    async def add_monthly(self, snapshot: SavingsMonthlySnapshot) -> None:
        self._add(snapshot)

    async def list_growth(self, first: date, last: date) -> Sequence[ClientGrowthSnapshot]:
        c = t.client_growth_daily.c
        stmt = select(t.client_growth_daily).where(c.day >= first, c.day <= last).order_by(c.day)
        return await self._many(ClientGrowthSnapshot, stmt)

    async def add_growth(self, snapshot: ClientGrowthSnapshot) -> None:
        self._add(snapshot)

    async def client_lifetimes(self, limit: int, *, after: ClientId | None = None) -> Sequence[ClientLifetime]:
        c = t.clients.c
        stmt = select(c.client_id, c.created_at, c.deleted_at).order_by(c.client_id).limit(limit)
        if after is not None:
            stmt = stmt.where(c.client_id > after)
        rows = (await self._session.execute(stmt)).all()
        return [ClientLifetime(ClientId(r.client_id), r.created_at, r.deleted_at) for r in rows]

    async def count_switches(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        c = t.switches.c
        return await self._count(
            select(func.count()).where(c.client_id == client_id, *_within(c.received_at, start, end))
        )

    async def count_failovers(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        c = t.episodes.c
        stmt = select(func.count()).where(
            c.client_id == client_id, c.state == EpisodeState.FAILED_OVER.value, *_within(c.closed_at, start, end)
        )
        return await self._count(stmt)

    async def count_clients(self, *, existing_at: datetime) -> int:
        c = t.clients.c
        alive = or_(c.deleted_at.is_(None), c.deleted_at >= existing_at)
        return await self._count(select(func.count()).where(c.created_at < existing_at, alive))

    async def count_new_clients(self, start: datetime, end: datetime) -> int:
        return await self._count(select(func.count()).where(*_within(t.clients.c.created_at, start, end)))

    async def count_active_clients(self) -> int:
        return await self._count(select(func.count()).where(t.clients.c.status == ClientStatus.ACTIVE.value))

    async def first_client_created_at(self) -> datetime | None:
        value: datetime | None = (await self._session.execute(select(func.min(t.clients.c.created_at)))).scalar()
        return value

    async def _count(self, stmt: Select[Any]) -> int:
        return int((await self._session.execute(stmt)).scalar_one())


def _within(column: Any, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return column >= start, column < end
