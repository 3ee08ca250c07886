"""N1 – N3 through their use cases and the fakes (NT-3, NT-5): one commit per change, none for a no-op."""

from __future__ import annotations

from datetime import timedelta

import pytest

from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.list_notifications import ListNotifications, ListNotificationsQuery
from spotopt.application.notifications.mark_all_notifications_read import (
    MarkAllNotificationsRead,
    MarkAllNotificationsReadCommand,
)
from spotopt.application.notifications.mark_notification_read import (
    MarkNotificationRead,
    MarkNotificationReadCommand,
)
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import ClientId
from tests.factories.common import T0
from tests.fakes.inbox import InMemoryNotificationInbox
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork

A, B = ClientId("client-a"), ClientId("client-b")


async def seeded() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    for client_id, n in ((A, 0), (A, 1), (B, 2)):
        await uow.events.add_notification(
            Notification(
                notification_id=f"n-{n}",
                client_id=client_id,
                type="agent-offline",
                severity=Severity.WARNING,
                title="t",
                message="m",
                dedup_key=f"k-{n}",
                created_at=T0 + timedelta(minutes=n),
            )
        )
    await uow.commit_setup()
    return uow


async def test_n2_marks_once_and_a_repeat_does_not_commit() -> None:
    uow, clock = await seeded(), FixedClock(T0)
    use_case = MarkNotificationRead(uow, InMemoryNotificationInbox(uow.store), clock)
    first = await use_case.execute(MarkNotificationReadCommand(client_id=A, notification_id="n-0"))
    clock.advance(minutes=3)
    again = await use_case.execute(MarkNotificationReadCommand(client_id=A, notification_id="n-0"))
    assert (first.read_at, again.read_at, uow.commits) == (T0, T0, 1)


async def test_nt3_another_clients_notification_is_not_found_and_unchanged() -> None:
    uow = await seeded()
    use_case = MarkNotificationRead(uow, InMemoryNotificationInbox(uow.store), FixedClock(T0))
    with pytest.raises(NotFoundError):
        await use_case.execute(MarkNotificationReadCommand(client_id=A, notification_id="n-2"))
    assert uow.store.notifications[(B, "k-2")].is_read is False


async def test_n3_counts_what_it_changed_and_n1_unread_count_follows() -> None:
    uow, clock = await seeded(), FixedClock(T0)
    inbox = InMemoryNotificationInbox(uow.store)
    mark = MarkAllNotificationsRead(uow, inbox, clock)
    assert await mark.execute(MarkAllNotificationsReadCommand(client_id=A, before=T0)) == 1
    assert await mark.execute(MarkAllNotificationsReadCommand(client_id=A)) == 1
    assert await mark.execute(MarkAllNotificationsReadCommand(client_id=A)) == 0
    assert uow.commits == 2
    listed = await ListNotifications(inbox).execute(ListNotificationsQuery(client_id=B))
    assert (listed.total, listed.unread_count, listed.notifications[0].notification_id) == (1, 1, "n-2")
