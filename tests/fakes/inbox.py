"""Fake of ``NotificationInbox``: the store's notifications, scoped to one client."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.ids import ClientId
from tests.fakes.store import InMemoryRepository


class InMemoryNotificationInbox(InMemoryRepository):
    def _of(self, client_id: ClientId) -> list[Notification]:
        return [n for n in self.store.notifications.values() if n.client_id == client_id]

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
        found = [
            n
            for n in self._of(client_id)
            if (not unread_only or not n.is_read)
            and (not severities or n.severity.value in severities)
            and (not types or n.type in types)
        ]
        found.sort(key=lambda n: n.notification_id)
        found.sort(key=lambda n: n.created_at, reverse=True)
        return found[offset : offset + limit], len(found)

    async def unread_count(self, client_id: ClientId) -> int:
        return sum(not n.is_read for n in self._of(client_id))

    async def get(self, client_id: ClientId, notification_id: str) -> Notification | None:
        return next((n for n in self._of(client_id) if n.notification_id == notification_id), None)

    async def mark_all_read(self, client_id: ClientId, before: datetime | None, now: datetime) -> int:
        chosen = [n for n in self._of(client_id) if not n.is_read and (before is None or n.created_at <= before)]
        for n in chosen:
            n.mark_read(now)
        return len(chosen)
