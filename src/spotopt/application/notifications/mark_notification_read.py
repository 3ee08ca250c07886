"""N2: mark one notification read (NT-5)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.notifications import NotificationInbox
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkNotificationReadCommand:
    client_id: ClientId
    notification_id: str


class MarkNotificationRead:
    """- Another client's or an unknown notification → not found (NT-3, CL-4).
    - NT-5: ``is_read`` true and ``read_at`` set once; a repeat changes nothing and returns the first ``read_at``.
    """

    def __init__(self, uow: UnitOfWork, inbox: NotificationInbox, clock: Clock) -> None:
        self._uow = uow
        self._inbox = inbox
        self._clock = clock

    async def execute(self, command: MarkNotificationReadCommand) -> Notification:
        notification = await self._inbox.get(command.client_id, command.notification_id)
        if notification is None:
            raise NotFoundError("Notification not found")
        if notification.mark_read(self._clock.now()):
            await self._uow.commit()
        return notification
