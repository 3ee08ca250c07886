"""The notification fan-out sweep (domain §7.2): a webhook delivery for every new notification, and what is due."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.ports.notifications import WebhookStore
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.notifications.webhooks import Delivery
from spotopt.domain.shared.ids import new_id

BATCH = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDelivery:
    delivery_id: str
    notification_id: str
    attempt: int
    """The attempt the delivery job will make (its queue key)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FanOutNotificationsResult:
    created: int
    due: tuple[DueDelivery, ...]


class FanOutNotifications:
    """- Notifications of clients with an enabled webhook, created since it was configured and without a delivery,
      get one (``pending``, due now); the unique ``(notification, channel)`` key keeps it to one per channel.
    - Returns every delivery due now (new ones and retries whose time came), for the caller to enqueue after the
      commit (CC-8). Never creates notifications and never sends anything itself.
    """

    def __init__(self, uow: UnitOfWork, webhooks: WebhookStore, clock: Clock) -> None:
        self._uow = uow
        self._webhooks = webhooks
        self._clock = clock

    async def execute(self, limit: int = BATCH) -> FanOutNotificationsResult:
        now = self._clock.now()
        retries = list(await self._webhooks.due(now, limit))
        created: list[Delivery] = []
        for notification in await self._webhooks.without_delivery(limit):
            delivery = Delivery(
                delivery_id=new_id(),
                notification_id=notification.notification_id,
                client_id=notification.client_id,
                created_at=now,
                next_attempt_at=now,
            )
            await self._webhooks.add_delivery(delivery)
            created.append(delivery)
        if created:
            await self._uow.commit()
        due = tuple(
            DueDelivery(delivery_id=d.delivery_id, notification_id=d.notification_id, attempt=d.attempts + 1)
            for d in retries + created
        )
        return FanOutNotificationsResult(created=len(created), due=due)
