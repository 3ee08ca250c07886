"""The notification inbox (N1 – N3) and the webhook store (§7.2 fan-out): the same assertions on the in-memory
fakes and on the SQL adapters over the real database (house style §13: fakes stay honest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.repositories.inbox import SqlAlchemyNotificationInbox
from spotopt.adapters.persistence.repositories.webhooks import SqlAlchemyWebhookStore
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.notifications.webhooks import Delivery, WebhookEndpoint
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import ClientId
from tests import services
from tests.factories.agents import make_client
from tests.fakes.inbox import InMemoryNotificationInbox
from tests.fakes.uow import InMemoryUnitOfWork
from tests.fakes.webhooks import InMemoryWebhookStore, WebhookTables
from tests.http_app import make_settings, reset_database

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
A, B = ClientId("client-a"), ClientId("client-b")


@dataclass
class Stores:
    uow: Any
    inbox: Any
    webhooks: Any


Opener = Callable[[], Any]


@asynccontextmanager
async def memory(_: Path) -> AsyncIterator[Opener]:
    tables = WebhookTables()

    @asynccontextmanager
    async def open_() -> AsyncIterator[Stores]:
        uow = InMemoryUnitOfWork(tables)
        yield Stores(uow, InMemoryNotificationInbox(tables), InMemoryWebhookStore(tables))
        await uow.close()

    yield open_


@asynccontextmanager
async def sql(tmp_path: Path) -> AsyncIterator[Opener]:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    engine = create_engine(settings.database_url)

    @asynccontextmanager
    async def open_() -> AsyncIterator[Stores]:
        async with create_sessionmaker(engine)() as session:
            yield Stores(
                SqlAlchemyUnitOfWork(session), SqlAlchemyNotificationInbox(session), SqlAlchemyWebhookStore(session)
            )

    try:
        yield open_
    finally:
        await engine.dispose()


def notification(client_id: ClientId, n: int, severity: Severity = Severity.INFO) -> Notification:
    return Notification(
        notification_id=f"n-{client_id}-{n}", client_id=client_id, type=f"type-{n % 2}", severity=severity,
        title="t", message="m", dedup_key=f"k-{n}", created_at=NOW + timedelta(minutes=n),
    )  # fmt: skip


async def seed(open_: Opener) -> None:
    async with open_() as s:
        for client_id in (A, B):
            await s.uow.clients.add(make_client(client_id=client_id))
        await s.uow.commit()
    async with open_() as s:
        for n in range(4):
            await s.uow.events.add_notification(notification(A, n, Severity.WARNING if n == 3 else Severity.INFO))
        await s.uow.events.add_notification(notification(B, 0))
        await s.uow.commit()


@pytest.fixture(params=["memory", "sql"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    backend = memory if request.param == "memory" else sql
    async with backend(tmp_path) as open_:
        await seed(open_)
        yield open_


async def test_n1_inbox_pages_newest_first_filters_and_counts_one_client(stores: Opener) -> None:
    async with stores() as s:
        page, total = await s.inbox.page(A, unread_only=False, severities=(), types=(), limit=2, offset=1)
        assert ([n.notification_id for n in page], total) == (["n-client-a-2", "n-client-a-1"], 4)
        warned, total = await s.inbox.page(A, unread_only=True, severities=("warning",), types=(), limit=50, offset=0)
        assert ([n.notification_id for n in warned], total) == (["n-client-a-3"], 1)
        typed, total = await s.inbox.page(A, unread_only=False, severities=(), types=("type-0",), limit=50, offset=0)
        assert ([n.notification_id for n in typed], total) == (["n-client-a-2", "n-client-a-0"], 2)
        assert await s.inbox.get(A, "n-client-b-0") is None  # NT-3
        assert await s.inbox.unread_count(B) == 1


async def test_n2_n3_marking_read_commits_and_is_scoped_to_the_client(stores: Opener) -> None:
    async with stores() as s:
        found = await s.inbox.get(A, "n-client-a-0")
        assert found.mark_read(NOW)
        await s.uow.commit()
    async with stores() as s:
        assert await s.inbox.mark_all_read(A, NOW + timedelta(minutes=2), NOW) == 2
        await s.uow.commit()
    async with stores() as s:
        assert await s.inbox.unread_count(A) == 1
        assert await s.inbox.unread_count(B) == 1
        assert (await s.inbox.get(A, "n-client-a-0")).read_at == NOW
    async with stores() as s:
        assert await s.inbox.mark_all_read(A, None, NOW) == 1
        await s.uow.rollback()  # a rollback discards the bulk update too
    async with stores() as s:
        assert await s.inbox.unread_count(A) == 1


async def test_fan_out_store_finds_undelivered_notifications_since_the_endpoint_and_due_deliveries(
    stores: Opener,
) -> None:
    async with stores() as s:
        since = NOW + timedelta(minutes=1)
        await s.webhooks.add_endpoint(WebhookEndpoint(A, "https://h.example/x", "whsec_1", True, since, since))
        await s.uow.commit()
    async with stores() as s:
        pending = await s.webhooks.without_delivery(10)
        assert [n.notification_id for n in pending] == ["n-client-a-1", "n-client-a-2", "n-client-a-3"]
        delivery = Delivery(
            delivery_id="d-1", notification_id="n-client-a-1", client_id=A, created_at=NOW, next_attempt_at=NOW
        )
        await s.webhooks.add_delivery(delivery)
        await s.uow.commit()
    async with stores() as s:
        assert [n.notification_id for n in await s.webhooks.without_delivery(10)] == ["n-client-a-2", "n-client-a-3"]
        assert [d.delivery_id for d in await s.webhooks.due(NOW, 10)] == ["d-1"]
        assert await s.webhooks.due(NOW - timedelta(seconds=1), 10) == []
        locked = await s.webhooks.get_for_update("d-1")
        locked.claim(NOW)
        await s.uow.commit()
    async with stores() as s:
        assert (await s.webhooks.get_for_update("d-1")).attempts == 1
        assert await s.webhooks.due(NOW, 10) == []
        assert (await s.webhooks.endpoint(A)).secret == "whsec_1"
        assert await s.webhooks.endpoint(B) is None
        assert (await s.webhooks.notification("n-client-a-1")).client_id == A
