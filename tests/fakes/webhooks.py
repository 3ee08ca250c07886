"""Fakes of the webhook ports: the store (honest: its tables roll back with the rest), a recording job producer and
a scripted sender."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from spotopt.application.errors import ConflictError
from spotopt.application.ports.notifications import SendOutcome
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.notifications.webhooks import Delivery, DeliveryStatus, WebhookEndpoint
from spotopt.domain.shared.ids import ClientId
from tests.fakes.store import InMemoryRepository, InMemoryStore


@dataclass
class WebhookTables(InMemoryStore):
    """The in-memory store plus the webhook tables, inside the same transaction."""

    webhook_endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)


class InMemoryWebhookStore(InMemoryRepository):
    def __init__(self, store: WebhookTables) -> None:
        super().__init__(store)
        self._tables = store

    @property
    def tables(self) -> WebhookTables:
        self.store.begin()
        return self._tables

    async def endpoint(self, client_id: ClientId) -> WebhookEndpoint | None:
        return self.tables.webhook_endpoints.get(client_id)

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.tables.webhook_endpoints[endpoint.client_id] = endpoint

    async def without_delivery(self, limit: int) -> Sequence[Notification]:
        tables = self.tables
        delivered = {(d.notification_id, d.channel) for d in tables.deliveries.values()}
        found = []
        for n in tables.notifications.values():
            endpoint = tables.webhook_endpoints.get(n.client_id)
            if endpoint is None or not endpoint.enabled or n.created_at < endpoint.since:
                continue
            if (n.notification_id, "webhook") not in delivered:
                found.append(n)
        return sorted(found, key=lambda n: (n.created_at, n.notification_id))[:limit]

    async def add_delivery(self, delivery: Delivery) -> None:
        tables = self.tables
        if any(
            (d.notification_id, d.channel) == (delivery.notification_id, delivery.channel)
            for d in tables.deliveries.values()
        ):
            raise ConflictError("The change conflicts with existing data", code="conflict")
        tables.deliveries[delivery.delivery_id] = delivery

    async def due(self, now: datetime, limit: int) -> Sequence[Delivery]:
        due = [
            d
            for d in self.tables.deliveries.values()
            if d.status is DeliveryStatus.PENDING and d.next_attempt_at is not None and d.next_attempt_at <= now
        ]
        return sorted(due, key=lambda d: (d.next_attempt_at or now, d.delivery_id))[:limit]

    async def get_for_update(self, delivery_id: str) -> Delivery | None:
        return self.tables.deliveries.get(delivery_id)

    async def notification(self, notification_id: str) -> Notification | None:
        return next((n for n in self.tables.notifications.values() if n.notification_id == notification_id), None)


class RecordingNotificationJobs:
    def __init__(self) -> None:
        self.enqueued: list[tuple[str, str, int]] = []

    async def deliver(self, delivery_id: str, notification_id: str, attempt: int) -> bool:
        self.enqueued.append((delivery_id, notification_id, attempt))
        return True


class ScriptedWebhookSender:
    """Answers each POST with the next scripted status (the last one repeats); records what it was sent."""

    def __init__(self, *statuses: int | None) -> None:
        self.statuses = list(statuses) or [200]
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendOutcome:
        self.sent.append((url, body, dict(headers)))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status is None:
            return SendOutcome(status_code=None, error="ConnectError")
        return SendOutcome(status_code=status, error=None if 200 <= status < 300 else f"HTTP {status}")
