"""One webhook delivery attempt of one notification (domain §7.2 fan-out, NT-6, NT-8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.ports.notifications import WebhookSender, WebhookStore
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.notifications.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Delivery,
    DeliveryStatus,
    is_success,
    payload,
    signature,
)
from spotopt.domain.shared.events import Severity

USER_AGENT = "spotopt-webhook/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverNotificationCommand:
    delivery_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverNotificationResult:
    delivery_id: str
    status: DeliveryStatus | None
    attempts: int
    sent: bool


@dataclass(frozen=True, slots=True)
class _Request:
    url: str
    body: bytes
    headers: dict[str, str]
    attempt: int


class DeliverNotification:
    """- Idempotent: a delivery that is not ``pending`` or not due yet is left alone (a job re-run sends nothing).
    - The attempt is claimed and committed first, the POST happens outside any transaction (§7.2 "never inside a
      domain transaction"; no row lock is held over the network), the outcome is recorded in a second short
      transaction. A claim whose worker died lapses after 60 s and the attempt is retried.
    - Body: the notification (A.9 fields), never a token or the secret; headers sign it (HMAC-SHA256 over
      ``"<unix time>." + body``, ``X-Spotopt-Signature: t=…,v1=…``).
    - 2xx → ``delivered``. Anything else → the next attempt 1 min, 5 min, 30 min, 2 h after the failed one; after
      the fifth attempt ``delivery_failed`` with system event ``notification_delivery_failed`` (warning). The
      notification itself is never touched (NT-8).
    """

    def __init__(self, uow: UnitOfWork, webhooks: WebhookStore, sender: WebhookSender, clock: Clock) -> None:
        self._uow = uow
        self._webhooks = webhooks
        self._sender = sender
        self._clock = clock

    async def execute(self, command: DeliverNotificationCommand) -> DeliverNotificationResult:
        request = await self._claim(command.delivery_id)
        if request is None:
            delivery = await self._webhooks.get_for_update(command.delivery_id)
            await self._uow.rollback()
            return _result(command.delivery_id, delivery, sent=False)
        outcome = await self._sender.post(request.url, request.body, request.headers)
        delivery = await self._webhooks.get_for_update(command.delivery_id)
        if delivery is None or delivery.attempts != request.attempt or delivery.status is not DeliveryStatus.PENDING:
            await self._uow.rollback()  # another worker took the delivery over after our claim lapsed
            return _result(command.delivery_id, delivery, sent=True)
        now = self._clock.now()
        if outcome.status_code is not None and is_success(outcome.status_code):
            delivery.succeeded(now, outcome.status_code)
        else:
            gave_up = delivery.failed(outcome.status_code, outcome.error or "failed")
            if gave_up:
                await self._uow.events.add_event(_gave_up(delivery, now))
        await self._uow.commit()
        return _result(command.delivery_id, delivery, sent=True)

    async def _claim(self, delivery_id: str) -> _Request | None:
        """First transaction: lock, check, claim the attempt, commit; None when there is nothing to send."""
        delivery = await self._webhooks.get_for_update(delivery_id)
        now = self._clock.now()
        if delivery is None or not delivery.is_due(now):
            return None
        endpoint = await self._webhooks.endpoint(delivery.client_id)
        notification = await self._webhooks.notification(delivery.notification_id)
        if endpoint is None or not endpoint.enabled or notification is None:
            delivery.abandon("webhook not configured")
            await self._uow.commit()
            return None
        attempt = delivery.claim(now)
        await self._uow.commit()
        body = payload(notification)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: delivery.delivery_id,
            EVENT_HEADER: notification.type,
            SIGNATURE_HEADER: signature(endpoint.secret, int(now.timestamp()), body),
        }
        return _Request(endpoint.url, body, headers, attempt)


def _result(delivery_id: str, delivery: Delivery | None, *, sent: bool) -> DeliverNotificationResult:
    return DeliverNotificationResult(
        delivery_id=delivery_id,
        status=delivery.status if delivery is not None else None,
        attempts=delivery.attempts if delivery is not None else 0,
        sent=sent,
    )


def _gave_up(delivery: Delivery, now: datetime) -> SystemEvent:
    return SystemEvent(
        event_id="",
        type="notification_delivery_failed",
        severity=Severity.WARNING,
        message=f"Webhook delivery of notification {delivery.notification_id} failed after {delivery.attempts} attempts",
        created_at=now,
        client_id=delivery.client_id,
        metadata={
            "notification_id": delivery.notification_id,
            "channel": delivery.channel,
            "attempts": delivery.attempts,
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
        },
    )
