"""Fakes of the notifications ports."""

from __future__ import annotations

from spotopt.domain.notifications.notification import Notification, SystemEvent
from spotopt.domain.shared.ids import ClientId
from tests.fakes.store import InMemoryRepository


class InMemoryEventRepository(InMemoryRepository):
    async def add_event(self, event: SystemEvent) -> None:
        self.store.events.append(event)

    async def add_notification(self, notification: Notification) -> bool:
        key = (notification.client_id, notification.dedup_key)
        if key in self.store.notifications:
            return False
        self.store.notifications[key] = notification
        return True

    async def notification_exists(self, client_id: ClientId, dedup_key: str) -> bool:
        return (client_id, dedup_key) in self.store.notifications
