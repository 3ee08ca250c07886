"""WebhookEndpoint and Delivery ↔ their rows."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper
from spotopt.adapters.persistence.models.webhooks import NotificationDeliveryModel, WebhookEndpointModel
from spotopt.domain.notifications.webhooks import Delivery, DeliveryStatus, WebhookEndpoint
from spotopt.domain.shared.ids import ClientId


class WebhookEndpointMapper(Mapper[WebhookEndpoint, WebhookEndpointModel]):
    model = WebhookEndpointModel

    def identity(self, entity: WebhookEndpoint) -> tuple[Any, ...]:
        return (entity.client_id,)

    def to_domain(self, model: WebhookEndpointModel) -> WebhookEndpoint:
        m = model
        return WebhookEndpoint(
            client_id=ClientId(m.client_id),
            url=m.url,
            secret=m.secret,
            enabled=m.enabled,
            since=m.since,
            updated_at=m.updated_at,
        )

    def to_model(self, entity: WebhookEndpoint, model: WebhookEndpointModel | None = None) -> WebhookEndpointModel:
        e, m = entity, model if model is not None else WebhookEndpointModel()
        m.client_id = e.client_id
        m.url = e.url
        m.secret = e.secret
        m.enabled = e.enabled
        m.since = e.since
        m.updated_at = e.updated_at
        return m


class DeliveryMapper(Mapper[Delivery, NotificationDeliveryModel]):
    model = NotificationDeliveryModel

    def identity(self, entity: Delivery) -> tuple[Any, ...]:
        return (entity.delivery_id,)

    def to_domain(self, model: NotificationDeliveryModel) -> Delivery:
        m = model
        return Delivery(
            delivery_id=m.delivery_id,
            notification_id=m.notification_id,
            client_id=ClientId(m.client_id),
            created_at=m.created_at,
            channel=m.channel,
            status=DeliveryStatus(m.status),
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at,
            last_attempt_at=m.last_attempt_at,
            last_status_code=m.last_status_code,
            last_error=m.last_error,
            delivered_at=m.delivered_at,
        )

    def to_model(self, entity: Delivery, model: NotificationDeliveryModel | None = None) -> NotificationDeliveryModel:
        d, m = entity, model if model is not None else NotificationDeliveryModel()
        m.delivery_id = d.delivery_id
        m.notification_id = d.notification_id
        m.client_id = d.client_id
        m.created_at = d.created_at
        m.channel = d.channel
        m.status = d.status.value
        m.attempts = d.attempts
        m.next_attempt_at = d.next_attempt_at
        m.last_attempt_at = d.last_attempt_at
        m.last_status_code = d.last_status_code
        m.last_error = d.last_error
        m.delivered_at = d.delivered_at
        return m


ENDPOINTS = WebhookEndpointMapper()
DELIVERIES = DeliveryMapper()
