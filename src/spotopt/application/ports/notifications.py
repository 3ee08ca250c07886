"""Ports of the notifications feature."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
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


class NotificationInbox(Protocol):
    """A client's stored notifications, the in-app channel (N1 – N3, NT-3, NT-5).

    Reads and writes run in the caller's transaction (the request's session) and never commit. Every method is
    scoped to one client: another client's notification does not exist for it (NT-3).
    """

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
        """N1: matches newest ``created_at`` first (ties by id ascending), one page, and the count before paging.
        Empty ``severities``/``types`` mean all.
        """
        ...

    async def unread_count(self, client_id: ClientId) -> int: ...

    async def get(self, client_id: ClientId, notification_id: str) -> Notification | None:
        """The client's notification as an entity whose changes the commit writes, or None."""
        ...

    async def mark_all_read(self, client_id: ClientId, before: datetime | None, now: datetime) -> int:
        """N3: unread notifications created at or before ``before`` (all when None) → read at ``now``; how many."""
        ...
