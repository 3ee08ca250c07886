"""Ports of the notifications feature."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from spotopt.domain.notifications.notification import Notification, SystemEvent
from spotopt.domain.notifications.webhooks import Delivery, WebhookEndpoint
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


@dataclass(frozen=True, slots=True, kw_only=True)
class SendOutcome:
    """What one webhook POST got: the HTTP status, or ``status_code`` None and ``error`` when nothing answered."""

    status_code: int | None
    error: str | None = None


class WebhookSender(Protocol):
    """POSTs one webhook request with bounded connect/read timeouts. Never raises: every failure is an outcome.
    Never follows redirects (a redirect is a failed delivery) and never logs the body or the headers.
    """

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendOutcome: ...


class WebhookStore(Protocol):
    """Webhook endpoints and per-notification deliveries (§7.2 fan-out), in the caller's transaction; never commits."""

    async def endpoint(self, client_id: ClientId) -> WebhookEndpoint | None: ...

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    async def without_delivery(self, limit: int) -> Sequence[Notification]:
        """Notifications of clients with an enabled endpoint, created at or after it was configured, that have no
        webhook delivery yet; oldest first, at most ``limit``.
        """
        ...

    async def add_delivery(self, delivery: Delivery) -> None:
        """A delivery row; the ``(notification_id, channel)`` unique key makes a second one a ``ConflictError`` at
        commit (the fan-out never delivers twice to one channel).
        """
        ...

    async def due(self, now: datetime, limit: int) -> Sequence[Delivery]:
        """Pending deliveries whose next attempt is due at ``now``, oldest due first, at most ``limit``."""
        ...

    async def get_for_update(self, delivery_id: str) -> Delivery | None:
        """The delivery, its row locked until the transaction ends."""
        ...

    async def notification(self, notification_id: str) -> Notification | None: ...


class NotificationJobs(Protocol):
    """Enqueues webhook deliveries after the caller's commit (CC-8). Never raises; False when nothing was enqueued
    (no queue, queue unreachable, or the same attempt already queued).
    """

    async def deliver(self, delivery_id: str, notification_id: str, attempt: int) -> bool: ...
