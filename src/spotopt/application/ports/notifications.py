"""Ports of the notifications feature."""

from __future__ import annotations

from typing import Protocol

from spotopt.domain.notifications.notification import Notification, SystemEvent
from spotopt.domain.shared.ids import ClientId


class EventRepository(Protocol):
    """System events and client notifications (NT-1 … NT-6).

    ``add_notification`` returns False when ``(client_id, dedup_key)`` already exists (NT-4): a repeated cause
    creates no second notification.
    """

    async def add_event(self, event: SystemEvent) -> None: ...

    async def add_notification(self, notification: Notification) -> bool: ...

    async def notification_exists(self, client_id: ClientId, dedup_key: str) -> bool: ...
