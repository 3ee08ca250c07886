"""N1: a client's notifications, paged, with the unread count (NT-3, NT-5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spotopt.application.ports.notifications import NotificationInbox
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ListNotificationsQuery:
    client_id: ClientId
    unread_only: bool = False
    severities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ListNotificationsResult:
    notifications: Sequence[Notification]
    total: int
    unread_count: int


class ListNotifications:
    """- Only the token's client's notifications exist (NT-3); newest first, ties by id.
    - ``total`` counts the filtered matches before paging; ``unread_count`` ignores the filters.
    - Read-only: nothing is committed.
    """

    def __init__(self, inbox: NotificationInbox) -> None:
        self._inbox = inbox

    async def execute(self, query: ListNotificationsQuery) -> ListNotificationsResult:
        items, total = await self._inbox.page(
            query.client_id,
            unread_only=query.unread_only,
            severities=query.severities,
            types=query.types,
            limit=query.limit,
            offset=query.offset,
        )
        unread = await self._inbox.unread_count(query.client_id)
        return ListNotificationsResult(notifications=items, total=total, unread_count=unread)
