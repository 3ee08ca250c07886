"""Enqueueing webhook deliveries on the SAQ queue (port ``NotificationJobs``)."""

from __future__ import annotations

from spotopt.adapters.job_queue import SaqJobQueue
from spotopt.application.jobs.names import JobName


def delivery_key(notification_id: str, attempt: int) -> str:
    """§7.2 key ``notify:<notification_id>:<channel>``, per attempt: SAQ keeps a finished job's key for a while,
    so one key for every attempt would swallow the 1-minute retry.
    """
    return f"notify:{notification_id}:webhook:{attempt}"


class SaqNotificationJobs(SaqJobQueue):
    async def deliver(self, delivery_id: str, notification_id: str, attempt: int) -> bool:
        key = delivery_key(notification_id, attempt)
        return await self._enqueue(JobName.DELIVER_NOTIFICATION, key, delivery_id=delivery_id)
