"""N3: mark all of a client's notifications read, optionally only those created up to a time (NT-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.ports.notifications import NotificationInbox
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkAllNotificationsReadCommand:
    client_id: ClientId
    before: datetime | None = None


class MarkAllNotificationsRead:
    """- Unread notifications of the client created at or before ``before`` (all when omitted) become read now.
    - Returns how many this call changed; already-read ones keep their ``read_at`` (NT-5), so a repeat marks 0.
    """

    def __init__(self, uow: UnitOfWork, inbox: NotificationInbox, clock: Clock) -> None:
        self._uow = uow
        self._inbox = inbox
        self._clock = clock

    async def execute(self, command: MarkAllNotificationsReadCommand) -> int:
        marked = await self._inbox.mark_all_read(command.client_id, command.before, self._clock.now())
        if marked:
            await self._uow.commit()
        return marked
