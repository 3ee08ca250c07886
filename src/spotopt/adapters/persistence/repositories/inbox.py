"""A client's stored notifications (N1 – N3; port ``NotificationInbox`` in ``application/ports/notifications.py``).

It shares the request's session with the unit of work (``SessionEntities`` keeps its state in the session), so a
notification loaded here is written by the unit of work's commit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.mappers.notifications import NOTIFICATIONS
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.notifications import NotificationModel
from spotopt.adapters.persistence.repositories.base import Filter, SqlAlchemyRepository
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.ids import ClientId


class SqlAlchemyNotificationInbox(SqlAlchemyRepository[Notification, NotificationModel]):
    mapper = NOTIFICATIONS

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(SessionEntities(session))

    async def page(
        self,
        client_id: ClientId,
        *,
        unread_only: bool,
        severities: Collection[str],
        types: Collection[str],
        limit: int,
        offset: int,
    ) -> tuple[Sequence[Notification], int]:
        n = NotificationModel
        filters: list[Filter] = [n.client_id == client_id]
        if unread_only:
            filters.append(n.is_read.is_(False))
        if severities:
            filters.append(n.severity.in_(list(severities)))
        if types:
            filters.append(n.type.in_(list(types)))
        return await self._page(
            *filters, order_by=[n.created_at.desc(), n.notification_id.asc()], limit=limit, offset=offset
        )

    async def unread_count(self, client_id: ClientId) -> int:
        n = NotificationModel
        stmt = select(func.count()).select_from(n).where(n.client_id == client_id, n.is_read.is_(False))
        return int((await self._db.execute(stmt)).scalar_one())

    async def get(self, client_id: ClientId, notification_id: str) -> Notification | None:
        n = NotificationModel
        return await self._one(select(n).where(n.client_id == client_id, n.notification_id == notification_id))

    async def mark_all_read(self, client_id: ClientId, before: datetime | None, now: datetime) -> int:
        table = table_of(NotificationModel)
        stmt = update(table).where(table.c.client_id == client_id, table.c.is_read.is_(False))
        if before is not None:
            stmt = stmt.where(table.c.created_at <= before)
        result = await self._db.execute(stmt.values(is_read=True, read_at=now))
        return int(result.rowcount)  # type: ignore[attr-defined]
