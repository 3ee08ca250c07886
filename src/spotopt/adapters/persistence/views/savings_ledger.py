"""SQL of the savings views (``SavingsViews``): final daily snapshots, ledger entries, switch and failover counts.

Plain reads on the request's session, client ids in chunks (one ``IN`` list per chunk). The indexes they use:
``savings_daily`` primary key (client_id, day), ``ix_ledger_entries_client_id_started_at`` for closed entries and
``uq_ledger_entries_client_id_open_key`` for the open ones, ``ix_switches_client_id_received_at``,
``ix_interruption_episodes_client_id_closed_at``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import Executable, Result, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.entities import translated
from spotopt.adapters.persistence.mappers.ledger import LEDGER_ENTRIES, SAVINGS_DAILY
from spotopt.adapters.persistence.models.commands import SwitchModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.adapters.persistence.models.ledger import LedgerEntryModel, SavingsDailyModel
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import SavingsDailySnapshot
from spotopt.domain.shared.ids import ClientId

CHUNK = 500
T = TypeVar("T")


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def run(session: AsyncSession, stmt: Executable) -> Result[Any]:
    with translated():
        return await session.execute(stmt)


async def rows(session: AsyncSession, stmt: Executable) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in (await run(session, stmt)).all()]


class SqlAlchemySavingsViews:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def final_days(
        self, client_ids: Sequence[ClientId], first: date, last: date
    ) -> Sequence[SavingsDailySnapshot]:
        d = SavingsDailyModel
        found: list[SavingsDailySnapshot] = []
        for ids in chunked(client_ids):
            stmt = (
                select(d)
                .where(d.client_id.in_(ids), d.day >= first, d.day <= last, d.final.is_(True))
                .order_by(d.client_id, d.day)
            )
            found += [SAVINGS_DAILY.to_domain(m) for m in (await run(self._session, stmt)).scalars()]
        return found

    async def final_savings_totals(self, client_ids: Sequence[ClientId], before: date) -> Mapping[ClientId, Decimal]:
        d = SavingsDailyModel
        totals: dict[ClientId, Decimal] = {}
        for ids in chunked(client_ids):
            stmt = (
                select(d.client_id, func.sum(d.savings))
                .where(d.client_id.in_(ids), d.day < before, d.final.is_(True))
                .group_by(d.client_id)
            )
            for client_id, total in await rows(self._session, stmt):
                totals[ClientId(client_id)] = Decimal(total)
        return totals

    async def ledger_entries(
        self, client_ids: Sequence[ClientId], spans: Sequence[tuple[datetime, datetime]]
    ) -> Sequence[LedgerEntry]:
        e = LedgerEntryModel
        found: list[LedgerEntry] = []
        for ids in chunked(client_ids):
            closed = [
                select(*e.__table__.columns).where(
                    e.client_id.in_(ids), e.started_at >= start, e.started_at < end, e.open_key.is_(None)
                )
                for start, end in spans
            ]
            still_open = select(*e.__table__.columns).where(e.client_id.in_(ids), e.open_key.is_not(None))
            for stmt in (*closed, still_open):  # plain rows, read by the mapper by attribute (no ORM objects)
                found += [
                    LEDGER_ENTRIES.to_domain(cast("LedgerEntryModel", r))
                    for r in (await run(self._session, stmt)).all()
                ]
        found.sort(key=lambda entry: (entry.started_at, entry.entry_id))
        return found

    async def count_switches(
        self, client_ids: Sequence[ClientId], start: datetime, end: datetime
    ) -> Mapping[ClientId, int]:
        s = SwitchModel
        return await self._counts(s.client_id, client_ids, s.received_at >= start, s.received_at < end)

    async def count_failovers(
        self, client_ids: Sequence[ClientId], start: datetime, end: datetime
    ) -> Mapping[ClientId, int]:
        e = EpisodeModel
        failed_over = (e.state == EpisodeState.FAILED_OVER.value, e.closed_at >= start, e.closed_at < end)
        return await self._counts(e.client_id, client_ids, *failed_over)

    async def _counts(self, column: Any, client_ids: Sequence[ClientId], *filters: Any) -> Mapping[ClientId, int]:
        counts: dict[ClientId, int] = {}
        for ids in chunked(client_ids):
            stmt = select(column, func.count()).where(column.in_(ids), *filters).group_by(column)
            counts.update({ClientId(c): int(n) for c, n in await rows(self._session, stmt)})
        return counts
