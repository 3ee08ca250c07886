"""System events and client notifications (NT-1 … NT-6; port in ``application/ports/notifications.py``)."""

from __future__ import annotations

from sqlalchemy import exists, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from spotopt.adapters.persistence.entities import SessionEntities, translated
from spotopt.adapters.persistence.failures import is_lock_contention
from spotopt.adapters.persistence.mappers.notifications import NOTIFICATIONS, SYSTEM_EVENTS
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.notifications import NotificationModel
from spotopt.adapters.persistence.repositories.bulk import rows
from spotopt.application.errors import ConflictError, LockContentionError
from spotopt.domain.notifications.notification import Notification, SystemEvent
from spotopt.domain.shared.ids import ClientId


class SqlAlchemyEventRepository:
    def __init__(self, entities: SessionEntities) -> None:
        self._db = entities

    async def add_event(self, event: SystemEvent) -> None:
        self._db.session.add(SYSTEM_EVENTS.to_model(event))

    async def add_notification(self, notification: Notification) -> bool:
        """NT-4: the ``(client_id, dedup_key)`` key decides, under a SAVEPOINT so a duplicate undoes only itself.

        Pending new rows go first (the notification names its client and agent, perhaps created in this transaction).
        """
        await self._db.flush_new()
        (values,) = rows(NOTIFICATIONS, [notification])
        try:
            async with self._db.session.begin_nested():
                await self._db.session.execute(insert(table_of(NotificationModel)).values(**values))
        except IntegrityError as exc:
            if await self.notification_exists(notification.client_id, notification.dedup_key):
                return False
            raise ConflictError("The change conflicts with existing data", code="conflict") from exc
        except DBAPIError as exc:
            # InnoDB rolls the whole transaction back on a deadlock, so releasing the savepoint then fails (1305)
            # and hides the cause: report the contention so the use case is retried in a fresh transaction (CC-5).
            if is_lock_contention(exc) or (exc.__context__ is not None and is_lock_contention(exc.__context__)):
                raise LockContentionError from exc
            raise
        return True

    async def notification_exists(self, client_id: ClientId, dedup_key: str) -> bool:
        n = NotificationModel
        stmt = select(exists().where(n.client_id == client_id, n.dedup_key == dedup_key))
        with translated():
            return bool((await self._db.session.execute(stmt)).scalar())
