"""Webhook endpoints and deliveries (port ``WebhookStore`` in ``application/ports/notifications.py``).

It shares the request's session with the unit of work, so the unit of work's commit writes what it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.mappers.notifications import NOTIFICATIONS
from spotopt.adapters.persistence.mappers.webhooks import DELIVERIES, ENDPOINTS
from spotopt.adapters.persistence.models.notifications import NotificationModel
from spotopt.adapters.persistence.models.webhooks import NotificationDeliveryModel, WebhookEndpointModel
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.notifications.webhooks import WEBHOOK_CHANNEL, Delivery, DeliveryStatus, WebhookEndpoint
from spotopt.domain.shared.ids import ClientId


class SqlAlchemyWebhookStore:
    def __init__(self, session: AsyncSession) -> None:
        self._db = SessionEntities(session)

    async def endpoint(self, client_id: ClientId) -> WebhookEndpoint | None:
        stmt = select(WebhookEndpointModel).where(WebhookEndpointModel.client_id == client_id)
        found: WebhookEndpoint | None = await self._db.one(ENDPOINTS, stmt)
        return found

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._db.add(ENDPOINTS, endpoint)

    async def without_delivery(self, limit: int) -> Sequence[Notification]:
        n, e, d = NotificationModel, WebhookEndpointModel, NotificationDeliveryModel
        stmt = (
            select(n)
            .join(e, and_(e.client_id == n.client_id, e.enabled.is_(True), n.created_at >= e.since))
            .outerjoin(d, and_(d.notification_id == n.notification_id, d.channel == WEBHOOK_CHANNEL))
            .where(d.delivery_id.is_(None))
            .order_by(n.created_at.asc(), n.notification_id.asc())
            .limit(limit)
        )
        return await self._db.many(NOTIFICATIONS, stmt)

    async def add_delivery(self, delivery: Delivery) -> None:
        self._db.add(DELIVERIES, delivery)

    async def due(self, now: datetime, limit: int) -> Sequence[Delivery]:
        d = NotificationDeliveryModel
        stmt = (
            select(d)
            .where(d.status == DeliveryStatus.PENDING.value, d.next_attempt_at <= now)
            .order_by(d.next_attempt_at.asc(), d.delivery_id.asc())
            .limit(limit)
        )
        return await self._db.many(DELIVERIES, stmt)

    async def get_for_update(self, delivery_id: str) -> Delivery | None:
        d = NotificationDeliveryModel
        found: Delivery | None = await self._db.locked(
            DELIVERIES, select(d).where(d.delivery_id == delivery_id).with_for_update()
        )
        return found

    async def notification(self, notification_id: str) -> Notification | None:
        stmt = select(NotificationModel).where(NotificationModel.notification_id == notification_id)
        found: Notification | None = await self._db.one(NOTIFICATIONS, stmt)
        return found
