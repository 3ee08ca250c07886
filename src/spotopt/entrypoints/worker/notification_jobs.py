"""The notification fan-out jobs (domain §7.2): the 60 s sweep and the per-attempt webhook delivery.

The sweep creates the deliveries of new notifications and enqueues every due attempt after its commit (CC-8);
retries are due 1 min, 5 min, 30 min and 2 h after a failed attempt, so the sweep is also what re-enqueues them.
Both jobs are idempotent: a re-run finds nothing new to create and nothing due to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec
from dishka import AsyncContainer

from spotopt.application.jobs.names import JobName
from spotopt.application.notifications.deliver_notification import DeliverNotification, DeliverNotificationCommand
from spotopt.application.notifications.fan_out_notifications import FanOutNotifications
from spotopt.application.ports.notifications import NotificationJobs
from spotopt.entrypoints.running import run_in
from spotopt.entrypoints.worker.decorators import JobFunction, Summary, on_demand, scheduled


class DeliveryPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    delivery_id: str


@scheduled(JobName.FAN_OUT_NOTIFICATIONS)
async def fan_out_notifications(scope: AsyncContainer, _tick: datetime) -> Summary:
    result = await run_in(scope, FanOutNotifications, lambda uc: uc.execute())
    jobs = await scope.get(NotificationJobs)
    enqueued = 0
    for due in result.due:
        enqueued += int(await jobs.deliver(due.delivery_id, due.notification_id, due.attempt))
    return {"created": result.created, "due": len(result.due), "enqueued": enqueued}


@on_demand(JobName.DELIVER_NOTIFICATION, DeliveryPayload)
async def deliver_notification(scope: AsyncContainer, payload: DeliveryPayload) -> Summary:
    command = DeliverNotificationCommand(delivery_id=payload.delivery_id)
    result = await run_in(scope, DeliverNotification, lambda uc: uc.execute(command))
    return {
        "delivery_id": result.delivery_id,
        "status": result.status.value if result.status is not None else None,
        "attempts": result.attempts,
        "sent": result.sent,
    }


ON_DEMAND_JOBS: Mapping[JobName, JobFunction] = {JobName.DELIVER_NOTIFICATION: deliver_notification}
