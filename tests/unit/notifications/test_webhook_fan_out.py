"""Notification fan-out through its use cases and fakes (domain §7.2 fan-out, §8 NT-6/NT-8, CC-8)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.configure_webhook import ConfigureWebhook, ConfigureWebhookCommand
from spotopt.application.notifications.deliver_notification import (
    DeliverNotification,
    DeliverNotificationCommand,
    DeliverNotificationResult,
)
from spotopt.application.notifications.fan_out_notifications import FanOutNotifications, FanOutNotificationsResult
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.notifications.webhooks import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    SIGNATURE_HEADER,
    Delivery,
    DeliveryStatus,
    verify,
)
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import ClientId, new_id
from tests.factories.agents import make_client
from tests.factories.common import T0
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork
from tests.fakes.webhooks import InMemoryWebhookStore, ScriptedWebhookSender, WebhookTables

URL = "https://hooks.example/spotopt"


class Harness:
    def __init__(self, sender: ScriptedWebhookSender | None = None) -> None:
        self.tables = WebhookTables()
        self.uow = InMemoryUnitOfWork(self.tables)
        self.webhooks = InMemoryWebhookStore(self.tables)
        self.clock = FixedClock(T0)
        self.sender = sender or ScriptedWebhookSender(200)

    async def client(self) -> ClientId:
        client = make_client()
        await self.uow.clients.add(client)
        await self.uow.commit_setup()
        return client.client_id

    async def configure(self, client_id: str, url: str | None = URL) -> str | None:
        async with self.uow:
            use_case = ConfigureWebhook(self.uow, self.webhooks, self.clock)
            return (await use_case.execute(ConfigureWebhookCommand(client_id=client_id, url=url))).secret

    async def notify(self, client_id: ClientId, minutes: int = 0) -> Notification:
        notification = Notification(
            notification_id=new_id(), client_id=client_id, type="agent-offline", severity=Severity.WARNING,
            title="Agent offline", message="Agent web-1 has sent no heartbeat", dedup_key=new_id(),
            created_at=T0 + timedelta(minutes=minutes),
        )  # fmt: skip
        await self.uow.events.add_notification(notification)
        await self.uow.commit_setup()
        return notification

    async def fan_out(self) -> FanOutNotificationsResult:
        async with self.uow:
            return await FanOutNotifications(self.uow, self.webhooks, self.clock).execute()

    async def deliver(self, delivery_id: str) -> DeliverNotificationResult:
        async with self.uow:
            use_case = DeliverNotification(self.uow, self.webhooks, self.sender, self.clock)
            return await use_case.execute(DeliverNotificationCommand(delivery_id=delivery_id))

    def delivery(self, delivery_id: str) -> Delivery:
        return self.tables.deliveries[delivery_id]


def test_fan_out_retry_schedule_is_1_5_30_120_minutes_then_delivery_failed() -> None:
    delivery = Delivery(delivery_id="d", notification_id="n", client_id=ClientId("c"), created_at=T0)
    at = T0
    waits = []
    for _ in range(MAX_ATTEMPTS):
        delivery.claim(at)
        gave_up = delivery.failed(500, "HTTP 500")
        if gave_up:
            break
        assert delivery.next_attempt_at is not None
        waits.append(delivery.next_attempt_at - at)
        at = delivery.next_attempt_at
    assert waits == list(RETRY_DELAYS)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.DELIVERY_FAILED, 5, None)


async def test_fan_out_creates_one_delivery_per_new_notification_and_never_a_second() -> None:
    h = Harness()
    client = await h.client()
    await h.notify(client, minutes=-1)  # before the webhook was configured: never sent
    await h.configure(client)
    new = await h.notify(client)
    first = await h.fan_out()
    assert (first.created, [d.notification_id for d in first.due]) == (1, [new.notification_id])
    again = await h.fan_out()
    assert again.created == 0
    assert [d.notification_id for d in again.due] == [new.notification_id]  # still due until delivered
    assert len(h.tables.deliveries) == 1


async def test_delivery_signs_the_body_and_carries_no_secret_or_token() -> None:
    h = Harness()
    client = await h.client()
    secret = await h.configure(client)
    assert secret is not None
    notification = await h.notify(client)
    [due] = (await h.fan_out()).due
    result = await h.deliver(due.delivery_id)
    assert (result.status, result.attempts, result.sent) == (DeliveryStatus.DELIVERED, 1, True)
    [(url, body, headers)] = h.sender.sent
    assert url == URL
    assert verify(secret, headers[SIGNATURE_HEADER], body)
    assert not verify("whsec_other", headers[SIGNATURE_HEADER], body)
    assert json.loads(body)["id"] == notification.notification_id
    token_hash = h.tables.clients[client].token_hash
    for text in (body.decode(), json.dumps(headers)):
        assert secret not in text
        assert token_hash not in text


async def test_delivery_is_idempotent_a_rerun_sends_nothing() -> None:
    h = Harness()
    client = await h.client()
    await h.configure(client)
    await h.notify(client)
    [due] = (await h.fan_out()).due
    await h.deliver(due.delivery_id)
    again = await h.deliver(due.delivery_id)
    assert (again.sent, again.status) == (False, DeliveryStatus.DELIVERED)
    assert len(h.sender.sent) == 1


async def test_fan_out_500s_are_retried_when_due_and_given_up_after_the_fifth_attempt() -> None:
    h = Harness(ScriptedWebhookSender(500))
    client = await h.client()
    await h.configure(client)
    await h.notify(client)
    [due] = (await h.fan_out()).due
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = await h.deliver(due.delivery_id)
        assert result.attempts == attempt
        early = await h.deliver(due.delivery_id)  # not due yet: nothing is sent
        assert early.sent is False
        if attempt < MAX_ATTEMPTS:
            h.clock.advance(seconds=RETRY_DELAYS[attempt - 1].total_seconds())
            assert [d.attempt for d in (await h.fan_out()).due] == [attempt + 1]
    assert len(h.sender.sent) == MAX_ATTEMPTS
    assert h.delivery(due.delivery_id).status is DeliveryStatus.DELIVERY_FAILED
    assert "notification_delivery_failed" in h.uow.event_types()
    assert (await h.fan_out()).due == ()


async def test_disabled_webhook_fails_pending_deliveries_without_sending() -> None:
    h = Harness()
    client = await h.client()
    await h.configure(client)
    await h.notify(client)
    [due] = (await h.fan_out()).due
    assert await h.configure(client, url=None) is None
    result = await h.deliver(due.delivery_id)
    assert (result.sent, result.status) == (False, DeliveryStatus.DELIVERY_FAILED)
    assert h.sender.sent == []


async def test_configure_webhook_needs_a_known_client_and_an_http_url() -> None:
    h = Harness()
    with pytest.raises(NotFoundError):
        await h.configure("None")
    client = await h.client()
    with pytest.raises(InvalidValueError, match="url"):
        await h.configure(client, url="ftp://x")
    assert h.tables.webhook_endpoints == {}
